//! The store contract as test functions: what `core` and its users rely
//! on from any [`Store`] backend. Each `pub async fn` makes its stores
//! through a [`Backend`] (fresh, or reopened on the same data) and panics
//! on a breach.
//!
//! A backend enables the `contract` feature in its `[dev-dependencies]`,
//! implements [`Backend`] in a test and expands
//! [`store_contract_tests!`](crate::store_contract_tests) with it (one
//! `#[tokio::test]` per function; the crate needs tokio). What only one
//! backend has (its batching, its files) stays in its own tests, which
//! may build their data with [`Fixture`].

mod chats;
mod devices;
mod files;
mod fixture;
mod key_packages;
mod lifecycle;
mod markers;
mod member_flags;
mod messages;
mod mls;
mod previews;
mod profile_hidden;
mod push;
mod queue;
mod search;
mod secrets;
mod settings;
mod targets;
mod users;
mod writes;

pub use chats::*;
pub use devices::*;
pub use files::*;
pub use fixture::*;
pub use key_packages::*;
pub use lifecycle::*;
pub use markers::*;
pub use member_flags::*;
pub use messages::*;
pub use mls::*;
pub use previews::*;
pub use profile_hidden::*;
pub use push::*;
pub use queue::*;
pub use search::*;
pub use secrets::*;
pub use settings::*;
pub use targets::*;
pub use users::*;
pub use writes::*;

use crate::{CommitFeed, Store};
use async_trait::async_trait;
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

/// How long a committed message may take to reach the feed (generous:
/// shared machines).
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A store under test, with what it reports as committed.
pub struct Harness {
    /// The store under test, shareable with spawned tasks.
    pub store: Arc<dyn Store>,
    /// The feed of the sink the store was opened with.
    pub commits: CommitFeed,
    /// Whatever the store's data needs to stay around (a temporary
    /// directory, a database handle); dropped after the store.
    pub keep: Box<dyn Any + Send + Sync>,
}

/// How a backend's tests make stores for the contract.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A fresh, empty store with a new commit sink.
    async fn open(&self) -> Harness;
    /// Closes the harness's store and opens its data again, with a new
    /// commit sink, as a restarted server would.
    async fn reopen(&self, harness: Harness) -> Harness;
}

/// Expands to one `#[tokio::test]` per contract test, each calling the
/// function of the same name in [`contract`](crate::contract) with the
/// given backend (an expression, evaluated once per test).
#[macro_export]
macro_rules! store_contract_tests {
    ($backend:expr) => {
        $crate::store_contract_tests!(
            @each $backend;
            // users
            usernames_are_unique_case_insensitively_and_searchable_by_prefix,
            unknown_users_are_found_nowhere_and_their_last_seen_is_ignored,
            refresh_rotation_kills_the_old_token_and_reuse_revokes_the_session,
            expired_sessions_do_not_rotate_and_logout_revokes_by_any_token,
            logout_with_the_live_token_ends_the_session_and_unknown_ones_are_inactive,
            people_are_found_by_any_word_of_their_display_name,
            a_password_hash_can_be_replaced,
            // devices
            devices_are_the_users_live_sessions_and_can_be_renamed,
            a_devices_last_seen_moves_with_refreshes_and_sockets,
            revoking_a_device_ends_it_and_its_subscriptions,
            ending_a_session_by_its_refresh_token_ends_its_subscriptions,
            revoking_the_other_sessions_keeps_only_the_current_one,
            // lifecycle
            a_closed_store_refuses_writes_and_still_answers_close,
            a_closed_store_answers_reads_and_pings_as_unavailable,
            // chats
            creating_a_direct_chat_twice_returns_the_existing_one,
            concurrent_direct_chat_creations_agree_on_one_chat,
            members_are_listed_oldest_first_and_can_leave,
            membership_and_member_role_follow_joins_and_removals,
            the_chat_list_is_most_recent_first_with_unread_counts_and_last_messages,
            cursors_and_co_members_cover_the_users_chats,
            chat_positions_tell_where_each_known_chat_stands,
            // markers
            markers_only_move_forward_and_receipts_report_when_they_reached_a_message,
            sending_reads_what_came_before_and_joining_counts_history_as_read,
            an_advance_counts_the_other_members_at_or_past_it_up_to_two,
            an_advance_reports_the_member_count_as_members_come_and_go,
            // member flags
            member_flags_are_per_member_and_a_read_clears_marked_unread,
            // writes
            concurrent_appends_to_one_chat_get_seqs_one_to_n_without_gaps,
            a_retried_client_msg_id_returns_the_original_and_stores_nothing,
            seq_survives_close_and_reopen,
            appending_to_a_missing_chat_is_refused_and_uses_no_seq,
            only_members_allowed_to_post_can_append,
            committed_messages_are_reported_in_seq_order_and_retries_are_not,
            queued_appends_keep_their_order_and_reach_the_feed_even_unawaited,
            // messages
            history_pages_in_all_three_directions_and_says_whether_more_lie_beyond,
            history_can_be_filtered_by_message_type,
            reactions_are_added_once_and_listed_oldest_first,
            every_change_to_a_message_gives_it_the_chats_next_version,
            the_change_cursor_lists_each_message_once_at_its_latest_change,
            the_change_cursor_can_be_filtered_by_message_type,
            // search
            edits_and_deletes_are_reflected_in_search,
            search_only_covers_chats_the_user_is_a_member_of_now,
            search_matches_whole_words_and_the_last_one_as_a_prefix,
            // files
            files_keep_their_metadata_and_count_towards_their_owners_storage,
            a_file_is_visible_through_live_messages_of_the_users_chats_and_as_an_avatar,
            only_old_files_nothing_refers_to_are_orphans_and_deletable,
            // chat profiles and hidden messages
            a_chats_profile_changes_field_by_field_and_its_avatar_is_kept_for_members,
            a_hidden_message_is_hidden_for_its_hider_only,
            // secrets
            a_shared_secret_is_the_first_candidate_stored_and_never_changes,
            // link previews
            a_link_preview_is_cached_per_url_and_replaced_by_a_newer_fetch,
            concurrent_puts_of_one_url_report_each_replaced_image_once,
            stale_link_previews_are_swept_and_name_their_images,
            // push subscriptions and settings
            subscribing_creates_keeps_or_replaces_by_endpoint,
            activation_needs_the_subscriptions_own_token_and_owner,
            push_targets_are_active_subscriptions_of_live_devices,
            recipients_honour_settings_and_need_an_active_subscription,
            // push queue
            a_message_owing_pushes_queues_one_job_and_a_retry_none,
            claimed_jobs_are_leased_until_the_lease_ends,
            a_job_is_planned_once,
            deliveries_are_claimed_retried_and_finished,
            a_read_takes_back_the_notifications_it_covers,
            // who a queued push still reaches
            a_plan_stores_deliveries_only_for_subscriptions_still_active,
            a_failed_unsubscribe_leaves_the_owners_deliveries_claimable,
            a_replaced_subscription_has_lost_its_queued_deliveries,
            deliveries_to_devices_no_longer_live_are_dropped_unsent,
            // MLS KeyPackage directory
            key_packages_are_counted_per_device_and_known_ones_ignored,
            concurrent_claims_hand_out_each_key_package_once_then_the_last_resort,
            a_claim_hands_out_one_per_live_device_and_their_owners_stay_known,
            the_limit_refuses_an_upload_and_a_new_last_resort_replaces_the_old,
            ending_a_session_forgets_its_key_packages,
            uploads_forget_expired_and_surplus_handed_out_key_packages,
            a_claim_leaves_out_the_caller_and_forgets_expired_sessions,
            a_device_s_signature_key_is_pinned_by_its_first_upload,
            concurrent_uploads_never_exceed_the_limit,
            claims_racing_the_end_of_all_sessions_all_finish,
            // encrypted chats (MLS groups)
            concurrent_commits_for_one_epoch_store_exactly_one,
            a_stale_commit_fails_alone_in_its_batch,
            encrypted_chats_take_only_mls_messages_and_search_never_sees_them,
            a_pair_has_one_plain_and_one_encrypted_direct_chat,
            welcomes_wait_for_their_device_and_the_latest_group_info_is_kept,
        );
    };
    (@each $backend:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::contract::$name(&$backend).await
            }
        )+
    };
}
