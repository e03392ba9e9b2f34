"""Which existing tests already cover which test design of
``shared/docs/reliability-and-performance.md`` (A-1 … A-24, B-1 … B-7, C-1 … C-6).

The drills in this directory cover the rest (and re-run some end to end through
real processes); each drill names its designs with ``@pytest.mark.design``. The
scoreboard counts both. ``test_designs_map.py`` checks every test named here
exists, so the map cannot silently rot.
"""

from __future__ import annotations

ALL = (
    [f"A-{i}" for i in range(1, 25)]
    + [f"B-{i}" for i in range(1, 8)]
    + [f"C-{i}" for i in range(1, 7)]
)

_OK = "tests/okta/"
_GR = "tests/grants/"
_AC = "tests/accounts/"

EXISTING: dict[str, list[str]] = {
    "A-2": ["tests/stack/test_whole_stack.py::test_whole_stack"],
    "A-3": [
        _OK
        + "test_writes.py::test_post_lost_to_5xx_is_read_back_before_it_is_sent_again",
        _OK
        + "test_writes.py::test_post_whose_answer_was_cut_off_is_found_by_reading_back",
        _OK + "test_writes.py::test_dropped_post_is_sent_again_only_after_reading_back",
    ],
    "A-4": [
        _GR
        + "test_full_sync.py::test_a_second_sync_while_one_runs_is_skipped_without_okta_calls",
        _GR + "test_full_sync.py::test_a_stale_or_duplicate_step_does_nothing",
        _GR
        + "test_incremental_sync.py::test_a_second_incremental_sync_while_one_runs_is_skipped",
    ],
    "A-5": [
        _OK
        + "test_rate_limits.py::test_429_waits_for_okta_reset_and_sends_retry_headers"
    ],
    "A-6": [
        _OK + "test_rate_limits.py::test_429_without_usable_headers_backs_off_briefly",
        _OK + "test_rate_limits.py::test_duplicated_reset_header_on_429_backs_off",
        _OK + "test_errors.py::test_duplicated_rate_limit_headers_are_not_trusted",
        _OK + "test_errors.py::test_rate_limited_when_retries_are_spent",
    ],
    "A-7": [
        _OK + "test_errors.py::test_server_error_retried_then_surfaced",
        _OK + "test_writes.py::test_persistent_5xx_gives_up_after_bounded_attempts",
        _GR
        + "test_full_sync.py::test_a_fault_on_one_app_leaves_its_local_grants_untouched",
    ],
    "A-8": [
        _OK + "test_errors.py::test_timeout",
        _OK + "test_errors.py::test_slow_drip_is_a_timeout_not_a_hang",
    ],
    "A-9": [
        _OK + "test_errors.py::test_malformed_bodies_are_errors_never_empty_lists",
        _OK + "test_errors.py::test_one_unreadable_grant_fails_the_whole_list",
        _OK + "test_errors.py::test_truncated_get_is_repeated",
    ],
    "A-10": [
        _OK + "test_errors.py::test_foreign_next_link_is_refused",
        _OK + "test_calls.py::test_stored_cursor_to_another_host_is_refused",
        _OK + "test_parsing.py::test_foreign_next_links_are_refused",
        _GR
        + "test_full_sync.py::test_an_app_deleted_in_okta_is_marked_removed_with_its_grants_closed",
    ],
    "A-11": [
        _GR + "test_audit.py::test_edit_is_detected",
        _GR + "test_audit.py::test_edit_with_recomputed_hash_is_detected",
        _GR + "test_audit.py::test_delete_is_detected",
        _GR + "test_audit.py::test_reorder_is_detected",
        _GR + "test_audit.py::test_forged_row_is_detected",
        _GR + "test_audit.py::test_tail_truncation_is_caught_by_checkpoint",
        _GR + "test_audit.py::test_edited_checkpoint_is_detected",
    ],
    "A-12": [_GR + "test_audit.py::test_orm_refuses_update_and_delete"],
    "A-14": [
        "tests/console/test_app_detail.py::test_tampered_or_empty_selection_is_refused_before_okta"
    ],
    "A-15": [
        _AC + "test_hygiene.py::test_sign_in_post_needs_a_csrf_token",
        _AC + "test_hygiene.py::test_sign_out_post_needs_a_csrf_token",
    ],
    "A-16": [
        _AC
        + "test_access.py::test_demoted_super_admin_is_refused_on_next_write_without_okta_write",
        _AC + "test_sign_in.py::test_everyone_else_is_refused_and_nothing_is_stored",
        _AC
        + "test_sign_in.py::test_read_only_admin_signs_in_as_an_auditor_and_cannot_write",
        "tests/console/test_app_detail.py::test_a_malformed_scope_id_is_refused_before_okta",
    ],
    "A-17": [
        _AC
        + "test_step_up.py::test_stale_authentication_redirects_to_okta_with_max_age",
        _AC + "test_step_up.py::test_step_up_then_resume_the_action",
        _AC + "test_step_up.py::test_okta_ignoring_max_age_is_refused",
        _AC + "test_step_up.py::test_step_up_can_demand_mfa",
    ],
    "A-18": [
        _AC + "test_sessions.py::test_idle_timeout_after_30_minutes",
        _AC + "test_sessions.py::test_absolute_timeout_after_12_hours_despite_activity",
        _AC + "test_sessions.py::test_idle_session_expires_server_side_too",
    ],
    "A-19": [
        _AC + "test_bad_callbacks.py::test_forged_state_is_refused",
        _AC + "test_bad_callbacks.py::test_bad_id_token_is_refused",
        _AC + "test_idtoken.py::test_unsigned_token_is_refused",
        _AC + "test_idtoken.py::test_hs256_token_is_refused",
        _AC + "test_idtoken.py::test_token_with_unknown_kid_is_refused",
    ],
    "A-20": [
        _OK + "test_tokens.py::test_assertion_claims_and_kid",
        _OK + "test_tokens.py::test_service_app_token_refreshed_before_expiry",
        _OK + "test_tokens.py::test_service_app_never_loops_on_401",
    ],
    "A-21": [
        "tests/ops/test_production_settings.py::test_check_deploy_passes_with_production_settings"
    ],
    "A-22": [
        _OK + "test_secrets.py::test_no_secret_in_debug_logs_errors_or_reprs",
        _AC + "test_hygiene.py::test_no_token_in_any_log_line",
    ],
    "A-23": [
        "tests/ops/test_probes.py::test_json_log_line_keeps_newlines_inside_one_line",
        "tests/ops/test_probes.py::test_request_id_header_cannot_inject_log_text",
    ],
    "B-1": [
        _GR + "test_full_sync.py::test_full_sync_request_count_is_the_stated_minimum",
        _OK + "test_calls.py::test_full_listing_makes_exactly_the_necessary_requests",
    ],
    "B-2": [
        _OK
        + "test_rate_limits.py::test_full_listing_stays_within_the_share_with_no_429",
        _OK
        + "test_pacing.py::test_pacer_spends_the_share_each_window_and_never_exceeds_it",
    ],
    "B-3": [
        _OK + "test_rate_limits.py::test_bucket_drained_by_another_tool_mid_listing",
        _OK
        + "test_pacing.py::test_pacer_backs_off_when_another_client_drains_the_bucket",
    ],
    "B-4": [
        _GR
        + "test_incremental_sync.py::test_a_quiet_poll_costs_one_request_and_writes_nothing",
        _GR
        + "test_incremental_sync.py::test_the_cursor_survives_and_events_are_not_processed_twice",
    ],
    "B-7": [_GR + "test_incremental_sync.py::test_a_transient_error_keeps_the_cursor"],
    "C-1": [
        "tests/console/test_queries.py::test_every_page_stays_within_the_query_budget"
    ],
}
