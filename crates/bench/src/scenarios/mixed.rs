//! `mixed`: a day-peak mix. Every online user is in one two-person chat
//! and one small group, some also in a large group; each sends at an
//! even share of the total rate, mostly into its small chats (weights
//! 10 : 5 : 1 for pair : small group : large group), announces `typing`
//! before sending, acknowledges every message it receives (`ack`) and
//! marks some read (`read`), as a real client does.

use super::{Output, connect_fleet, plan, record_steps, run_scenario, steps, watch};
use crate::cli::MixedArgs;
use crate::cluster::node_of;
use crate::fleet::split;
use crate::protocol::ConnPlan;
use crate::setup::{create_groups, persisted, register_users};
use std::time::Instant;

/// Share of a user's messages per kind of chat.
const PAIR_WEIGHT: u32 = 10;
const SMALL_WEIGHT: u32 = 5;
const LARGE_WEIGHT: u32 = 1;

pub async fn run(args: &MixedArgs) -> anyhow::Result<()> {
    run_scenario(
        "mixed",
        args,
        &args.common,
        async |server, output, started| measure(args, server, output, started).await,
    )
    .await
}

/// The chats of the mix (member indexes, owner first) and each user's
/// weighted chats (indexes into the chats).
/// Members of each chat, and each user's (chat index, weight) list.
pub type Layout = (Vec<Vec<usize>>, Vec<Vec<(usize, u32)>>);

pub fn layout(args: &MixedArgs) -> Layout {
    let users = args.users;
    let mut chats: Vec<Vec<usize>> = Vec::new();
    let mut of_user: Vec<Vec<(usize, u32)>> = vec![Vec::new(); users];
    let mut add = |members: Vec<usize>, weight: u32, chats: &mut Vec<Vec<usize>>| {
        for &member in &members {
            of_user[member].push((chats.len(), weight));
        }
        chats.push(members);
    };
    // Pairs: (0,1), (2,3) ...; an odd last user pairs with user 0.
    for first in (0..users).step_by(2) {
        let second = if first + 1 < users { first + 1 } else { 0 };
        if second != first {
            add(vec![first, second], PAIR_WEIGHT, &mut chats);
        }
    }
    // Small groups over a shifted order, so they mix different pairs.
    let size = args.small_size.max(2).min(users);
    if users >= 3 {
        let shifted: Vec<usize> = (0..users).map(|i| (i * 7 + 3) % users).collect();
        let mut seen = vec![false; users];
        let order: Vec<usize> = shifted
            .into_iter()
            .filter(|&i| !std::mem::replace(&mut seen[i], true))
            .collect();
        for members in order.chunks(size).filter(|chunk| chunk.len() >= 2) {
            add(members.to_vec(), SMALL_WEIGHT, &mut chats);
        }
    }
    for group in 0..args.large_groups {
        let size = args.large_size.min(users);
        let start = group * users / args.large_groups.max(1);
        let members = (0..size).map(|i| (start + i) % users).collect();
        add(members, LARGE_WEIGHT, &mut chats);
    }
    (chats, of_user)
}

async fn measure(
    args: &MixedArgs,
    server: &crate::server::Server,
    output: &mut Output,
    started: Instant,
) -> anyhow::Result<()> {
    let common = &args.common;
    let base_urls = server.base_urls();
    let users = register_users(&base_urls, args.users, common.register_concurrency).await?;
    let (groups, of_user) = layout(args);
    let chat_ids = create_groups(&base_urls, &users, &groups, 8).await?;
    output.users = users.len();
    output.chats = chat_ids.len();
    // User i on node i mod N: the pairs (2k, 2k+1) cross nodes.
    let plans: Vec<ConnPlan> = users
        .iter()
        .zip(&of_user)
        .enumerate()
        .map(|(index, (user, chats))| ConnPlan {
            token: user.token.clone(),
            chats: chats
                .iter()
                .map(|&(chat, weight)| (chat_ids[chat].clone(), weight))
                .collect(),
            node: node_of(index, server.nodes.len()),
        })
        .collect();
    let senders = plans.len() as u64;
    let workers = common.workers_for(plans.len());
    let mut fleet = connect_fleet(server, common, split(plans, workers), output, started).await?;
    let watch = watch(server, &fleet);
    let load = &args.load;
    let (warmup, results) = steps(&mut fleet, &watch, load, senders, |rate, secs| {
        let mut step = plan(load, rate, secs);
        step.typing_every = args.typing_every;
        step.ack = true;
        step.read_every = args.read_every;
        step
    })
    .await?;
    let acked = record_steps(output, warmup, results);
    fleet.close().await;
    output.acknowledged_total = Some(acked);
    output.persisted_in_store = Some(persisted(&base_urls, &users, &groups, &chat_ids).await?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn every_user_gets_a_pair_and_a_small_group() {
        let cli = crate::cli::Cli::try_parse_from([
            "natter-bench",
            "mixed",
            "--spawn-server",
            "x",
            "--users",
            "101",
            "--large-groups",
            "2",
            "--large-size",
            "40",
        ])
        .unwrap();
        let crate::cli::Command::Mixed(args) = cli.command else {
            panic!("mixed")
        };
        let (chats, of_user) = layout(&args);
        assert!(of_user.iter().all(|chats| chats.len() >= 2));
        assert_eq!(
            chats.iter().filter(|members| members.len() == 40).count(),
            2
        );
        for members in &chats {
            let mut unique = members.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), members.len(), "a member twice in {members:?}");
        }
    }
}
