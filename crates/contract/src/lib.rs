//! One contract test suite for every `Records` + `PhotoStore` adapter pair.
//!
//! Each case is `pub async fn case(fx: &Fixture)` in [`cases`]; it panics (with a message
//! saying which rule broke) when the adapter misbehaves. An adapter crate runs them all with
//! one line in a test file:
//!
//! ```text
//! async fn fixture() -> gradphoto_contract::Fixture { /* fresh records + store */ }
//! gradphoto_contract::contract_tests!(fixture());
//! ```
//!
//! which expands to one `#[tokio::test]` per case (the calling crate needs `tokio` with the
//! `macros` and `rt-multi-thread` features among its dev-dependencies). Every case makes its
//! own unique ids ([`Uniq`]), so cases may also share one backend (one DynamoDB table, one
//! bucket) and run in parallel; fixtures may still give each case fresh state. The exception is
//! `purge_removes_every_personal_record_and_object`, which empties its backend: both fixtures
//! give every case a fresh one.
//!
//! Times are fixed instants passed to the ports (never the wall clock), except presigned URLs'
//! expiry, which real stores compare with their own clock.

pub mod cases;
mod fixture;

pub use fixture::*;

/// Expands to one `#[tokio::test]` per contract case, each calling `$fixture` (an expression
/// evaluating to a future of [`Fixture`]) for fresh state.
#[macro_export]
macro_rules! contract_tests {
    ($fixture:expr) => {
        $crate::contract_tests!(@cases $fixture;
            campaign_round_trip,
            schools_listing_lookup_and_all_or_none_insert,
            register_uses_a_code_once,
            reset_school_gives_a_new_code_and_removes_the_old_account,
            accounts_round_trip_and_unique_usernames,
            login_attempts_are_reserved_within_the_window_and_cleared,
            parallel_login_attempts_get_only_the_limit,
            roster_import_is_all_or_nothing,
            roster_import_counts_new_and_updated,
            students_filter_and_order,
            counts_follow_every_transition,
            tickets_only_when_upload_allowed,
            claim_first_wins_second_superseded,
            claim_expired_ticket_loses,
            claim_unknown_ticket_loses,
            claim_old_generation_after_rejection_loses,
            concurrent_claims_have_one_winner,
            concurrent_issue_and_claim_have_one_winner,
            record_check_decides_once,
            record_check_ignores_stale_tickets,
            review_only_from_pending,
            review_sets_status_reasons_and_time,
            review_of_a_replaced_photo_is_refused,
            every_write_moves_the_version_and_a_rename_survives_a_review,
            review_queue_oldest_first_with_filters,
            approved_listing,
            stuck_uploads_lists_old_uploaded,
            similar_photos_by_hamming_distance,
            audit_trail_of_a_full_journey,
            appeal_only_a_checks_judgement_once,
            appeal_racing_a_reupload_has_one_winner,
            review_policy_approves_clean_photos_and_sends_the_rest_to_a_person,
            reopen_sends_an_approved_photo_back_to_the_school,
            queue_leases_keep_reviewers_apart,
            reviewers_paging_at_once_get_disjoint_pages,
            two_reviewers_deciding_one_page_at_once_decide_each_photo_once,
            parent_codes_replace_the_old_one_and_move_its_version,
            stats_equal_the_records_and_a_replay_of_the_audit_trail,
            stats_rebuild_restores_the_counters_from_the_records,
            a_parent_and_a_teacher_uploading_at_once_have_one_winner,
            an_auto_cropped_upload_is_marked_until_the_next_photo,
            a_checked_photos_geometry_is_kept_until_the_next_photo,
            store_read_limit_and_not_found,
            store_delete_is_idempotent,
            store_list_by_prefix,
            store_presigns_put_and_get,
            store_put_file_and_download_link,
            purge_removes_every_personal_record_and_object,
        );
    };
    (@cases $fixture:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture: $crate::Fixture = $fixture.await;
                $crate::cases::$case(&fixture).await;
                drop(fixture);
            }
        )*
    };
}
