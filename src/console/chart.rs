//! Server-rendered SVG charts for the admin console (issue 20 item 3): counts per time
//! bucket for a few series (sign-ins, failures, sign-ups), as grouped bars or lines,
//! with a y axis on a "nice" scale (steps of 1, 2 or 5 × 10ⁿ), x labels, a legend and
//! a text summary for assistive technology (`role="img"`, `aria-label`, `<title>`).
//!
//! No script and no `style` attribute (the console's CSP forbids inline styles): colours
//! and sizes are SVG presentation attributes. The output is a pure function of the
//! chart's data, so a page renders the same bytes for the same events; every text (series
//! names, labels, the title) is escaped here, which makes the markup safe to put in a
//! template unescaped.

use std::fmt::Write as _;

/// Canvas size (the `viewBox`); the page's stylesheet scales it to the column.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
/// The plot area's margins: tick labels on the left, the legend on top, x labels below.
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 28.0;
/// At most this many y intervals and x labels, so labels never overlap.
const MAX_Y_STEPS: u64 = 5;
const MAX_X_LABELS: usize = 8;
/// Okabe–Ito colours: told apart with the common colour-vision deficiencies, each with
/// at least 3:1 contrast on white. Lines also differ by dash pattern.
const COLOURS: [&str; 5] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8F6A00"];
const DASHES: [Option<&str>; 3] = [None, Some("6 3"), Some("2 3")];
const TEXT: &str = "#333333";
const AXIS: &str = "#666666";
const GRID: &str = "#dddddd";

/// How the values are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One group of bars per bucket, one bar per series.
    Bars,
    /// One line per series through the buckets' centres, with a marker per point.
    Lines,
}

/// One named row of counts, one per bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub values: Vec<u64>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<u64>) -> Self {
        Self {
            name: name.into(),
            values,
        }
    }

    /// The value in bucket `i`, zero past the end.
    fn at(&self, i: usize) -> u64 {
        self.values.get(i).copied().unwrap_or(0)
    }
}

/// A chart: a title, one label per bucket, and the series counted in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub title: String,
    pub style: Style,
    /// One per bucket; the bucket count. A series shorter than this counts zero in the
    /// missing buckets; values beyond it are not drawn.
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

/// The y axis: its top value and the step between ticks (both at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub top: u64,
    pub step: u64,
}

impl Scale {
    /// The smallest axis with steps of 1, 2 or 5 × 10ⁿ and at most [`MAX_Y_STEPS`]
    /// intervals that reaches `max`. Zero data gets the axis 0–1.
    pub fn for_max(max: u64) -> Scale {
        let max = max.max(1);
        let mut magnitude: u64 = 1;
        loop {
            for m in [1, 2, 5] {
                let Some(step) = magnitude.checked_mul(m) else {
                    return Scale::fallback(max);
                };
                let steps = max.div_ceil(step);
                if steps <= MAX_Y_STEPS {
                    return match steps.checked_mul(step) {
                        Some(top) => Scale { top, step },
                        None => Scale::fallback(max),
                    };
                }
            }
            magnitude = match magnitude.checked_mul(10) {
                Some(m) => m,
                None => return Scale::fallback(max),
            };
        }
    }

    /// Near `u64::MAX`, where no round step fits: five equal steps to `max`.
    fn fallback(max: u64) -> Scale {
        Scale {
            top: max,
            step: max.div_ceil(MAX_Y_STEPS).max(1),
        }
    }

    /// The tick values from 0 to the top.
    pub fn ticks(self) -> Vec<u64> {
        let mut ticks = vec![0];
        let mut t = 0u64;
        while t < self.top {
            t = t.saturating_add(self.step).min(self.top);
            ticks.push(t);
        }
        ticks
    }
}

/// A count for a tick label: `950`, `1.5k`, `20k`, `2.5M`, `3G` (ticks are multiples of a
/// round step, so one decimal is enough).
pub fn compact(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")];
    for (size, unit) in UNITS {
        if n >= size {
            let whole = n / size;
            let tenth = (n % size) / (size / 10);
            return if tenth == 0 {
                format!("{whole}{unit}")
            } else {
                format!("{whole}.{tenth}{unit}")
            };
        }
    }
    n.to_string()
}

/// Text escaped for SVG/HTML content and double- or single-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 text: dropped.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with one decimal, so output is stable and compact.
fn n(x: f64) -> String {
    format!("{x:.1}")
}

impl Chart {
    /// How many buckets the chart shows.
    pub fn buckets(&self) -> usize {
        self.labels.len()
    }

    /// The largest value drawn.
    fn max(&self) -> u64 {
        self.series
            .iter()
            .flat_map(|s| (0..self.buckets()).map(|i| s.at(i)))
            .max()
            .unwrap_or(0)
    }

    /// What the chart shows, in words: its title and each series' total.
    pub fn summary(&self) -> String {
        let totals: Vec<String> = self
            .series
            .iter()
            .map(|s| {
                let shown = (0..self.buckets())
                    .map(|i| s.at(i))
                    .fold(0u64, u64::saturating_add);
                format!("{} {shown}", s.name)
            })
            .collect();
        if self.max() == 0 {
            format!("{}: no events.", self.title)
        } else {
            format!("{}. Totals: {}.", self.title, totals.join(", "))
        }
    }

    /// The rows of the chart's data, one per bucket: its label and each series' value
    /// (for a table next to the chart).
    pub fn rows(&self) -> Vec<(&str, Vec<u64>)> {
        self.labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let values = self.series.iter().map(|s| s.at(i)).collect();
                (label.as_str(), values)
            })
            .collect()
    }

    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let summary = escape(&self.summary());
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {h}\" \
             width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{summary}\" \
             font-family=\"sans-serif\" font-size=\"11\">\
             <title>{summary}</title>",
            w = WIDTH,
            h = HEIGHT,
        );
        let scale = Scale::for_max(self.max());
        self.y_axis(&mut out, scale);
        self.x_axis(&mut out);
        match self.style {
            Style::Bars => self.bars(&mut out, scale),
            Style::Lines => self.lines(&mut out, scale),
        }
        if self.max() == 0 {
            let _ = write!(
                out,
                "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{TEXT}\">\
                 No events in this period</text>",
                n(LEFT + plot_width() / 2.0),
                n(TOP + plot_height() / 2.0),
            );
        }
        self.legend(&mut out);
        out.push_str("</svg>");
        out
    }

    /// The y coordinate of `value` on `scale`.
    fn y(value: u64, scale: Scale) -> f64 {
        // `as f64` rounds counts above 2⁵³, invisible at this size.
        let ratio = value as f64 / scale.top as f64;
        HEIGHT - BOTTOM - ratio.min(1.0) * plot_height()
    }

    /// The width of one bucket.
    fn bucket_width(&self) -> f64 {
        plot_width() / self.buckets().max(1) as f64
    }

    fn y_axis(&self, out: &mut String, scale: Scale) {
        out.push_str("<g class=\"y-axis\">");
        for tick in scale.ticks() {
            let y = n(Self::y(tick, scale));
            let _ = write!(
                out,
                "<line x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{GRID}\"/>\
                 <text x=\"{}\" y=\"{y}\" dy=\"4\" text-anchor=\"end\" fill=\"{TEXT}\">{}</text>",
                n(LEFT),
                n(WIDTH - RIGHT),
                n(LEFT - 6.0),
                compact(tick),
            );
        }
        let _ = write!(
            out,
            "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"{AXIS}\"/></g>",
            n(TOP),
            n(HEIGHT - BOTTOM),
            x = n(LEFT),
        );
    }

    fn x_axis(&self, out: &mut String) {
        let base = n(HEIGHT - BOTTOM);
        let _ = write!(
            out,
            "<g class=\"x-axis\"><line x1=\"{}\" x2=\"{}\" y1=\"{base}\" y2=\"{base}\" \
             stroke=\"{AXIS}\"/>",
            n(LEFT),
            n(WIDTH - RIGHT),
        );
        // Every `every`-th label, counted back from the last (the newest bucket, "now"),
        // so at most MAX_X_LABELS show.
        let count = self.buckets();
        let every = count.div_ceil(MAX_X_LABELS).max(1);
        let bw = self.bucket_width();
        for (i, label) in self.labels.iter().enumerate() {
            if !(count - 1 - i).is_multiple_of(every) {
                continue;
            }
            let x = n(LEFT + bw * (i as f64 + 0.5));
            let _ = write!(
                out,
                "<line x1=\"{x}\" x2=\"{x}\" y1=\"{base}\" y2=\"{}\" stroke=\"{AXIS}\"/>\
                 <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"{TEXT}\">{}</text>",
                n(HEIGHT - BOTTOM + 4.0),
                n(HEIGHT - 10.0),
                escape(label),
            );
        }
        out.push_str("</g>");
    }

    fn bars(&self, out: &mut String, scale: Scale) {
        let bw = self.bucket_width();
        let group = bw * 0.8;
        let bar = group / self.series.len().max(1) as f64;
        let floor = HEIGHT - BOTTOM;
        for (j, s) in self.series.iter().enumerate() {
            let _ = write!(
                out,
                "<g class=\"series\" fill=\"{}\">",
                COLOURS[j % COLOURS.len()]
            );
            for (i, label) in self.labels.iter().enumerate() {
                let value = s.at(i);
                // A zero draws nothing: an empty bucket stays empty.
                if value == 0 {
                    continue;
                }
                let y = Self::y(value, scale);
                // At least half a pixel, so a 1 among millions is still seen.
                let height = (floor - y).max(0.5);
                let _ = write!(
                    out,
                    "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">\
                     <title>{}, {}: {value}</title></rect>",
                    n(LEFT + bw * i as f64 + (bw - group) / 2.0 + bar * j as f64),
                    n(floor - height),
                    n(bar),
                    n(height),
                    escape(label),
                    escape(&s.name),
                );
            }
            out.push_str("</g>");
        }
    }

    fn lines(&self, out: &mut String, scale: Scale) {
        let bw = self.bucket_width();
        for (j, s) in self.series.iter().enumerate() {
            let colour = COLOURS[j % COLOURS.len()];
            let points: Vec<(f64, f64, u64)> = (0..self.buckets())
                .map(|i| {
                    let v = s.at(i);
                    (LEFT + bw * (i as f64 + 0.5), Self::y(v, scale), v)
                })
                .collect();
            let path: Vec<String> = points
                .iter()
                .map(|(x, y, _)| format!("{},{}", n(*x), n(*y)))
                .collect();
            let dash = dash_attribute(j);
            let _ = write!(
                out,
                "<g class=\"series\"><polyline class=\"line\" points=\"{}\" fill=\"none\" \
                 stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
                path.join(" "),
            );
            for ((x, y, v), label) in points.iter().zip(&self.labels) {
                let _ = write!(
                    out,
                    "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{colour}\">\
                     <title>{}, {}: {v}</title></circle>",
                    n(*x),
                    n(*y),
                    escape(label),
                    escape(&s.name),
                );
            }
            out.push_str("</g>");
        }
    }

    fn legend(&self, out: &mut String) {
        out.push_str("<g class=\"legend\">");
        let mut x = LEFT;
        for (j, s) in self.series.iter().enumerate() {
            let colour = COLOURS[j % COLOURS.len()];
            // The key looks like what it names: a swatch for bars, a stroke (with its
            // dashes) for lines.
            let (key, width) = match self.style {
                Style::Bars => (
                    format!(
                        "<rect x=\"{}\" y=\"10\" width=\"12\" height=\"12\" fill=\"{colour}\"/>",
                        n(x)
                    ),
                    12.0,
                ),
                Style::Lines => (
                    format!(
                        "<line x1=\"{}\" x2=\"{}\" y1=\"16\" y2=\"16\" stroke=\"{colour}\" \
                         stroke-width=\"2\"{}/>",
                        n(x),
                        n(x + 20.0),
                        dash_attribute(j)
                    ),
                    20.0,
                ),
            };
            let _ = write!(
                out,
                "{key}<text x=\"{}\" y=\"20\" fill=\"{TEXT}\">{}</text>",
                n(x + width + 4.0),
                escape(&s.name),
            );
            // About 6.5 px per character at 11 px sans-serif, then a gap.
            x += width + 4.0 + 6.5 * s.name.chars().count() as f64 + 18.0;
        }
        out.push_str("</g>");
    }
}

/// Series `j`'s line pattern, as an attribute (none for the first, solid).
fn dash_attribute(j: usize) -> String {
    DASHES[j % DASHES.len()]
        .map(|d| format!(" stroke-dasharray=\"{d}\""))
        .unwrap_or_default()
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(style: Style, series: Vec<Series>, buckets: usize) -> Chart {
        Chart {
            title: "Activity".into(),
            style,
            labels: (0..buckets).map(|i| format!("{i:02}:00")).collect(),
            series,
        }
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn scales_are_round_and_reach_the_largest_value() {
        assert_eq!(Scale::for_max(0), Scale { top: 1, step: 1 });
        assert_eq!(Scale::for_max(1), Scale { top: 1, step: 1 });
        assert_eq!(Scale::for_max(5), Scale { top: 5, step: 1 });
        assert_eq!(Scale::for_max(7), Scale { top: 8, step: 2 });
        assert_eq!(Scale::for_max(23), Scale { top: 25, step: 5 });
        assert_eq!(
            Scale::for_max(1234),
            Scale {
                top: 1500,
                step: 500
            }
        );
        assert_eq!(
            Scale::for_max(987_654_321),
            Scale {
                top: 1_000_000_000,
                step: 200_000_000
            }
        );
        assert_eq!(Scale::for_max(7).ticks(), [0, 2, 4, 6, 8]);
        // The largest counts still give a scale that reaches them, without overflow.
        let huge = Scale::for_max(u64::MAX);
        assert!(huge.top >= u64::MAX - huge.step && huge.step > 0);
        assert_eq!(*huge.ticks().last().unwrap(), huge.top);
        assert!(huge.ticks().len() <= 6);
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(compact(0), "0");
        assert_eq!(compact(950), "950");
        assert_eq!(compact(1_500), "1.5k");
        assert_eq!(compact(20_000), "20k");
        assert_eq!(compact(2_500_000), "2.5M");
        assert_eq!(compact(3_000_000_000), "3G");
    }

    #[test]
    fn bars_are_drawn_for_each_nonzero_value_with_their_titles() {
        // Arrange
        let c = chart(
            Style::Bars,
            vec![
                Series::new("Sign-ins", vec![3, 0, 5, 1]),
                Series::new("Failures", vec![0, 2, 0, 0]),
            ],
            4,
        );
        // Act
        let svg = c.svg();
        // Assert
        assert_eq!(count(&svg, "<rect class=\"bar\""), 4);
        assert!(svg.contains("<title>00:00, Sign-ins: 3</title>"));
        assert!(svg.contains("<title>01:00, Failures: 2</title>"));
        assert!(svg.contains("<title>02:00, Sign-ins: 5</title>"));
        // The tallest bar (5 on a 0–5 axis) fills the plot from its top to its floor.
        assert!(svg.contains(&format!(
            "y=\"{}\" width=\"{}\" height=\"{}\"><title>02:00, Sign-ins: 5",
            n(TOP),
            n(plot_width() / 4.0 * 0.8 / 2.0),
            n(plot_height())
        )));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-label=\"Activity. Totals: Sign-ins 9, Failures 2.\""));
        assert!(svg.contains("<title>Activity. Totals: Sign-ins 9, Failures 2.</title>"));
        // The legend names each series; the y axis has ticks 0..5.
        assert!(svg.contains(">Sign-ins</text>") && svg.contains(">Failures</text>"));
        for t in 0..=5 {
            assert!(svg.contains(&format!(">{t}</text>")), "tick {t}");
        }
        assert!(!svg.contains("<script") && !svg.contains("style="));
        assert!(!svg.contains("No events"));
    }

    #[test]
    fn lines_have_a_point_per_bucket_including_zeros() {
        let c = chart(
            Style::Lines,
            vec![
                Series::new("Sign-ins", vec![1, 2, 3]),
                // Shorter than the buckets: the missing one counts zero.
                Series::new("Sign-ups", vec![4, 0]),
            ],
            3,
        );
        let svg = c.svg();
        assert_eq!(count(&svg, "<polyline class=\"line\""), 2);
        assert_eq!(count(&svg, "<circle class=\"point\""), 6);
        assert!(svg.contains("<title>02:00, Sign-ups: 0</title>"));
        // A value of zero sits on the x axis; the top value (4 on a 0–4 axis) on top.
        let floor = n(HEIGHT - BOTTOM);
        assert!(svg.contains(&format!("cy=\"{floor}\" r=\"3\" fill=\"{}\"", COLOURS[1])));
        assert!(svg.contains(&format!("cy=\"{}\"", n(TOP))));
        assert!(svg.contains("stroke-dasharray=\"6 3\""));
    }

    #[test]
    fn an_empty_chart_says_so_and_still_draws_its_axes() {
        for style in [Style::Bars, Style::Lines] {
            let c = chart(
                style,
                vec![
                    Series::new("Sign-ins", vec![]),
                    Series::new("Failures", vec![0; 24]),
                ],
                24,
            );
            let svg = c.svg();
            assert_eq!(count(&svg, "<rect class=\"bar\""), 0);
            assert!(svg.contains("No events in this period"));
            assert!(svg.contains("aria-label=\"Activity: no events.\""));
            assert!(svg.contains(">0</text>") && svg.contains(">1</text>"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
        }
        // No buckets and no series at all: still well-formed.
        let none = chart(Style::Bars, vec![], 0).svg();
        assert!(none.ends_with("</svg>") && !none.contains("NaN"));
    }

    #[test]
    fn x_labels_are_thinned_to_fit() {
        let c = chart(Style::Bars, vec![Series::new("s", vec![1; 30])], 30);
        let svg = c.svg();
        // 30 buckets, every 4th labelled back from the last: 29, 25, …, 1.
        assert!(svg.contains(">29:00</text>") && svg.contains(">01:00</text>"));
        assert!(!svg.contains(">00:00</text>") && !svg.contains(">28:00</text>"));
        assert_eq!(count(&svg, "text-anchor=\"middle\" fill"), 8);
    }

    // Matrix: CO-10
    #[test]
    fn every_text_is_escaped() {
        let c = Chart {
            title: "<script>alert(1)</script> & \"q\"".into(),
            style: Style::Bars,
            labels: vec!["<b>x</b>".into(), "a'b".into()],
            series: vec![Series::new("<img src=x onerror=alert(1)>", vec![1, 2])],
        };
        let svg = c.svg();
        assert!(!svg.contains("<script") && !svg.contains("<img") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
        assert!(svg.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(svg.contains("a&#39;b"));
        assert_eq!(escape("a\u{0}b\u{1b}c"), "abc");
    }

    #[test]
    fn output_is_deterministic_and_large_counts_fit() {
        let c = chart(
            Style::Bars,
            vec![
                Series::new("Sign-ins", vec![1_234_567, 3, 0]),
                Series::new("Failures", vec![u64::MAX, 0, 0]),
            ],
            3,
        );
        assert_eq!(c.svg(), c.svg());
        let svg = c.svg();
        // Every bar stays inside the plot.
        assert!(!svg.contains("y=\"-") && !svg.contains("height=\"-"));
        assert!(c.summary().contains(&format!("Failures {}", u64::MAX)));
        let rows = c.rows();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], ("00:00", vec![1_234_567, u64::MAX]));
    }
}
