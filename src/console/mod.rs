//! The admin console at `/admin` (issue 20 item 3): server-rendered pages, no
//! JavaScript required.

pub mod activity;
pub mod chart;
pub mod logs;
