-- The hosted pages' look as Cognito's SetUICustomization sets it: a stylesheet and a
-- logo for every client of a pool ('ALL') or for one client, which then wins over
-- 'ALL'. The logo is served from the pool's own URL (see hosted_ui::branding).
create table ui_customizations (
    pool_id     text not null references user_pools(pool_id) on delete cascade,
    client_id   text not null,           -- 'ALL' or a client's id
    css         text,
    image       blob,                    -- PNG or JPEG bytes
    image_type  text,                    -- image/png or image/jpeg
    created_at  bigint not null,
    updated_at  bigint not null,
    primary key (pool_id, client_id)
);
