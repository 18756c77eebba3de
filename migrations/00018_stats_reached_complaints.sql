-- +goose Up
-- Issue 17: the rollups' "reached" counts complaints with at least one
-- feedback call that reached the citizen, not calls (so that satisfied /
-- reached is a share of complaints). Recount it from the facts.
UPDATE stats_base r SET reached = (SELECT count(*) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.reached > 0);
UPDATE stats_category r SET reached = (SELECT count(*) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.category = r.category AND f.reached > 0);
UPDATE stats_channel r SET reached = (SELECT count(*) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.channel = r.channel AND f.reached > 0);
UPDATE stats_line r SET reached = (SELECT count(*) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.line = r.line AND f.reached > 0);
UPDATE stats_officer r SET reached = (SELECT count(*) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.officer = r.officer AND f.reached > 0);

-- +goose Down
UPDATE stats_base r SET reached = (SELECT coalesce(sum(f.reached), 0) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district);
UPDATE stats_category r SET reached = (SELECT coalesce(sum(f.reached), 0) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.category = r.category);
UPDATE stats_channel r SET reached = (SELECT coalesce(sum(f.reached), 0) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.channel = r.channel);
UPDATE stats_line r SET reached = (SELECT coalesce(sum(f.reached), 0) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.line = r.line);
UPDATE stats_officer r SET reached = (SELECT coalesce(sum(f.reached), 0) FROM stats_facts f
    WHERE f.day = r.day AND f.department = r.department AND f.district = r.district AND f.officer = r.officer);
