//! How markers are counted: by SQL that must stay an index range, since
//! it runs for every ack in chats of thousands of members.

use super::*;
use crate::markers::{OTHERS_DELIVERED, OTHERS_READ};
use sqlx::Row;

#[tokio::test]
async fn counting_the_members_past_a_marker_is_an_index_range() {
    let f = Fixture::new().await;
    for (sql, index) in [
        (OTHERS_READ, "members_read"),
        (OTHERS_DELIVERED, "members_delivered"),
    ] {
        let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"));
        let plan: Vec<String> = sqlx::query(explain)
            .fetch_all(&f.store.readers)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get("detail"))
            .collect();
        assert!(
            plan.iter().any(|step| step.contains(index)),
            "{index} not used: {plan:?}"
        );
    }
}
