//! One-to-one calls: signaling relayed between the two members of a direct
//! chat, never stored, and the `call` entry a call leaves in the chat's
//! history when it ends (missed, declined, or ended with its duration),
//! stored through the normal append so it gets a `seq` and reaches every
//! device like any message.
//!
//! Modelled on Matrix's VoIP events: every connection is a party (the
//! server gives each a `party_id`); an invite rings on every device of the
//! callee until its lifetime runs out; the first device to answer wins and
//! the server tells the callee's devices which one (`call.select_answer`),
//! so the others stop ringing. Frames go to the other user's subject, so
//! they reach that user's connections on any node; each frame says which
//! party sent it, and clients ignore the calls they are not in.
//!
//! The state of a call ([`table`]) lives in memory on the node that took
//! the invite (the caller's). In a cluster a callee's device may be on
//! another node: that node checks the frame and the chat and relays it,
//! addressed to the caller's subject, which the holding node listens to
//! while the caller is connected there ([`Core::call_relayed`]); what the
//! holder answers goes out to the users' subjects as always. A node that
//! dies ends the calls it holds without an entry. Media never passes
//! through the server; [`turn`] hands out TURN credentials.

mod checks;
pub mod table;
pub mod turn;

use crate::{Caller, Core, CoreError, CoreResult, new_id, now_ms};
use checks::{DEFAULT_REASON, check_sdp, check_signal};
use natter_bus::{Envelope, Meta, Subject};
use natter_proto::calls::{CallOutcome, CallRecord, SdpType, SessionDescription};
use natter_proto::chats::ChatType;
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::messages::{MessageType, Metadata};
use natter_store::NewMessage;
use std::time::{Duration, Instant};
pub use table::Party;
use table::{Call, Phase, Refused, Relayed, Side};

/// The hangup reason when a party's connection closed.
const CONNECTION_LOST: &str = "connection_lost";
/// How long an invite rings when the frame does not say.
pub const DEFAULT_LIFETIME_MS: u64 = 60_000;
/// The shortest and longest lifetime an invite may ask for.
pub const LIFETIME_MS: std::ops::RangeInclusive<u64> = 1_000..=120_000;

impl Core {
    /// Handles one signaling frame (`call.*`) from the connection
    /// `party_id` of `caller`. A chat the caller is not in, a call they are
    /// not a party of, or one that has ended is `not_found`. A frame about
    /// a call this node does not hold goes, in a cluster, to the node that
    /// does ([`Core::call_relayed`]); that node's refusal comes back to the
    /// connection as an `error` frame naming the call.
    pub async fn call_frame(
        &self,
        caller: &Caller,
        party_id: &str,
        frame: ClientFrame,
    ) -> CoreResult<()> {
        let party = Party {
            user_id: caller.user_id.clone(),
            party_id: party_id.to_owned(),
        };
        if let ClientFrame::CallInvite {
            call_id,
            chat_id,
            offer,
            lifetime_ms,
            video,
        } = frame
        {
            return self
                .call_invite(party, call_id, chat_id, offer, lifetime_ms, video)
                .await;
        }
        check_signal(&frame)?;
        let call_id = frame
            .call_id()
            .ok_or_else(|| CoreError::invalid("not a call frame"))?;
        if self.calls.get(call_id).is_none() && self.bus.spans_nodes() {
            return self.relay_signal(party, frame).await;
        }
        self.signal(party, frame).await
    }

    /// A signaling frame of `party` (a connection on another node),
    /// relayed to this node through the bus as `frame` (its JSON). Handled
    /// if this node holds the call, else left to the node that does; a
    /// refusal goes back to that one connection.
    pub async fn call_relayed(&self, party: Party, frame: &[u8]) {
        let frame = match serde_json::from_slice::<ClientFrame>(frame) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::warn!(%error, "dropping a relayed call frame that does not parse");
                return;
            }
        };
        let Some(call_id) = frame.call_id().map(str::to_owned) else {
            return;
        };
        if self.calls.get(&call_id).is_none() {
            return;
        }
        if let Err(error) = self.signal(party.clone(), frame).await {
            let refusal = error.to_frame(None, Some(call_id));
            let envelope = Envelope::to_user(&party.user_id, &refusal);
            self.bus.publish(Envelope {
                meta: Meta::ToParty {
                    party_id: party.party_id,
                },
                ..envelope
            });
        }
    }

    /// Sends `frame` of `party`, about a call this node does not hold, to
    /// the other member of its direct chat: the node holding the call is
    /// one of theirs (the caller's, which took the invite). A party that
    /// answers is remembered, so its connection closing hangs up there.
    async fn relay_signal(&self, party: Party, frame: ClientFrame) -> CoreResult<()> {
        let Some((call_id, chat_id)) = frame.call() else {
            return Err(CoreError::invalid("not a call frame"));
        };
        let peer_id = match self.direct_peer(chat_id, &party.user_id).await {
            Ok(peer_id) => peer_id,
            Err(CoreError::Rejected { .. }) => return Err(CoreError::not_found("call")),
            Err(error) => return Err(error),
        };
        match &frame {
            ClientFrame::CallAnswer { .. } => self.calls.answered_elsewhere(
                &party.party_id,
                Relayed {
                    call_id: call_id.to_owned(),
                    chat_id: chat_id.to_owned(),
                    peer_id: peer_id.clone(),
                },
            ),
            ClientFrame::CallReject { .. } | ClientFrame::CallHangup { .. } => {
                self.calls.left_elsewhere(&party.party_id, call_id);
            }
            _ => {}
        }
        self.relay(&party, &frame, peer_id);
        Ok(())
    }

    fn relay(&self, party: &Party, frame: &ClientFrame, peer_id: String) {
        // A client frame always serialises (no maps, no fallible impls).
        let frame = serde_json::to_vec(frame).unwrap_or_default();
        self.bus.publish(Envelope {
            subject: Subject::User(peer_id),
            meta: Meta::CallRelay {
                user_id: party.user_id.clone(),
                party_id: party.party_id.clone(),
            },
            frame: frame.into(),
        });
    }

    /// Handles a signaling frame (not an invite, checked already) about a
    /// call this node holds.
    async fn signal(&self, party: Party, frame: ClientFrame) -> CoreResult<()> {
        match frame {
            ClientFrame::CallAnswer {
                call_id,
                chat_id,
                answer,
            } => self.call_answer(party, &call_id, &chat_id, answer),
            ClientFrame::CallCandidates {
                call_id,
                chat_id,
                candidates,
            } => {
                let (call, side) = self.call_of(&party, &call_id, &chat_id)?;
                if side == Side::AnsweredElsewhere {
                    return Err(CoreError::not_found("call"));
                }
                self.to_user(
                    call.peer_of(side),
                    &ServerEvent::CallCandidates {
                        call_id,
                        chat_id,
                        user_id: party.user_id,
                        party_id: party.party_id,
                        candidates,
                    },
                );
                Ok(())
            }
            ClientFrame::CallNegotiate {
                call_id,
                chat_id,
                description,
            } => {
                let (call, side) = self.call_of(&party, &call_id, &chat_id)?;
                if !matches!(side, Side::Caller | Side::Callee)
                    || matches!(call.phase, Phase::Ringing { .. })
                {
                    return Err(CoreError::conflict(
                        "renegotiation needs an answered call, between its two parties",
                    ));
                }
                self.to_user(
                    call.peer_of(side),
                    &ServerEvent::CallNegotiate {
                        call_id,
                        chat_id,
                        user_id: party.user_id,
                        party_id: party.party_id,
                        description,
                    },
                );
                Ok(())
            }
            ClientFrame::CallReject { call_id, chat_id } => {
                let (_, side) = self.call_of(&party, &call_id, &chat_id)?;
                match side {
                    Side::Ringing => self.end_call(&call_id, &party, None).await,
                    Side::AnsweredElsewhere | Side::Callee => {
                        Err(CoreError::conflict("the call was answered"))
                    }
                    Side::Caller => Err(CoreError::invalid(
                        "the caller ends a call with call.hangup",
                    )),
                }
            }
            ClientFrame::CallHangup {
                call_id,
                chat_id,
                reason,
            } => {
                let reason = reason.unwrap_or_else(|| DEFAULT_REASON.to_owned());
                let (_, side) = self.call_of(&party, &call_id, &chat_id)?;
                match side {
                    // A ringing device hanging up declines.
                    Side::Ringing => self.end_call(&call_id, &party, None).await,
                    Side::Caller | Side::Callee => {
                        self.end_call(&call_id, &party, Some(reason)).await
                    }
                    Side::AnsweredElsewhere => Err(CoreError::not_found("call")),
                }
            }
            _ => Err(CoreError::invalid("not a call frame")),
        }
    }

    /// The other member of direct chat `chat_id`, which `user_id` is in.
    async fn direct_peer(&self, chat_id: &str, user_id: &str) -> CoreResult<String> {
        let (chat_type, _) = self.role_in(chat_id, user_id).await?;
        if chat_type != ChatType::Direct {
            return Err(CoreError::invalid(
                "calls are one-to-one: only in a direct chat",
            ));
        }
        self.store
            .members(chat_id)
            .await?
            .into_iter()
            .map(|member| member.user_id)
            .find(|member| member != user_id)
            .ok_or_else(|| CoreError::invalid("nobody else is in this chat"))
    }

    async fn call_invite(
        &self,
        party: Party,
        call_id: String,
        chat_id: String,
        offer: SessionDescription,
        lifetime_ms: Option<u64>,
        video: bool,
    ) -> CoreResult<()> {
        if uuid::Uuid::parse_str(&call_id).is_err() {
            return Err(CoreError::invalid("call_id must be a UUID"));
        }
        let lifetime_ms = lifetime_ms.unwrap_or(DEFAULT_LIFETIME_MS);
        if !LIFETIME_MS.contains(&lifetime_ms) {
            return Err(CoreError::invalid(format!(
                "lifetime_ms must be {} to {}",
                LIFETIME_MS.start(),
                LIFETIME_MS.end()
            )));
        }
        check_sdp("offer", &offer, Some(SdpType::Offer))?;
        let callee_id = self.direct_peer(&chat_id, &party.user_id).await?;
        let call = Call {
            chat_id: chat_id.clone(),
            caller: party.clone(),
            callee_id: callee_id.clone(),
            video,
            phase: Phase::Ringing {
                until: Instant::now() + Duration::from_millis(lifetime_ms),
            },
        };
        self.calls
            .insert(&call_id, call)
            .map_err(|_| CoreError::conflict("a call with this call_id exists"))?;
        self.to_user(
            &callee_id,
            &ServerEvent::CallInvite {
                call_id,
                chat_id,
                user_id: party.user_id,
                party_id: party.party_id,
                offer,
                lifetime_ms,
                video,
            },
        );
        Ok(())
    }

    fn call_answer(
        &self,
        party: Party,
        call_id: &str,
        chat_id: &str,
        answer: SessionDescription,
    ) -> CoreResult<()> {
        let (_, side) = self.call_of(&party, call_id, chat_id)?;
        match side {
            Side::Ringing => {}
            Side::Callee | Side::AnsweredElsewhere => {
                return Err(CoreError::conflict("the call was answered already"));
            }
            Side::Caller => return Err(CoreError::invalid("the caller cannot answer")),
        }
        let call = self
            .calls
            .answer(call_id, &party.party_id, Instant::now())
            .map_err(|refused| match refused {
                Refused::Answered => CoreError::conflict("the call was answered already"),
                Refused::Unknown | Refused::Exists => CoreError::not_found("call"),
            })?;
        self.to_user(
            &call.caller.user_id,
            &ServerEvent::CallAnswer {
                call_id: call_id.to_owned(),
                chat_id: chat_id.to_owned(),
                user_id: party.user_id.clone(),
                party_id: party.party_id.clone(),
                answer,
            },
        );
        self.to_user(
            &party.user_id,
            &ServerEvent::CallSelectAnswer {
                call_id: call_id.to_owned(),
                chat_id: chat_id.to_owned(),
                selected_party_id: party.party_id,
            },
        );
        Ok(())
    }

    /// The call and what `party` is to it; `not_found` if nothing.
    fn call_of(&self, party: &Party, call_id: &str, chat_id: &str) -> CoreResult<(Call, Side)> {
        let call = self
            .calls
            .get(call_id)
            .filter(|call| call.chat_id == chat_id)
            .ok_or_else(|| CoreError::not_found("call"))?;
        let side = call
            .side(party)
            .ok_or_else(|| CoreError::not_found("call"))?;
        Ok((call, side))
    }

    /// Ends a call because `by` hung up (`reason`) or, with no reason,
    /// declined; tells both users and writes the history entry. A call
    /// that ended meanwhile is `not_found`.
    async fn end_call(&self, call_id: &str, by: &Party, reason: Option<String>) -> CoreResult<()> {
        let call = self
            .calls
            .remove(call_id)
            .ok_or_else(|| CoreError::not_found("call"))?;
        let event = match reason {
            Some(reason) => ServerEvent::CallHangup {
                call_id: call_id.to_owned(),
                chat_id: call.chat_id.clone(),
                user_id: by.user_id.clone(),
                party_id: by.party_id.clone(),
                reason,
            },
            None => ServerEvent::CallReject {
                call_id: call_id.to_owned(),
                chat_id: call.chat_id.clone(),
                user_id: by.user_id.clone(),
                party_id: by.party_id.clone(),
            },
        };
        let declined = matches!(event, ServerEvent::CallReject { .. });
        self.to_both(&call, &event);
        self.record_call(call_id, &call, declined).await
    }

    /// Ends every invite that rang past its lifetime: missed.
    pub async fn expire_calls(&self) {
        for (call_id, call) in self.calls.expire(Instant::now()) {
            let caller = call.caller.clone();
            self.to_both(
                &call,
                &ServerEvent::CallHangup {
                    call_id: call_id.clone(),
                    chat_id: call.chat_id.clone(),
                    user_id: caller.user_id,
                    party_id: caller.party_id,
                    reason: "invite_timeout".into(),
                },
            );
            if let Err(error) = self.record_call(&call_id, &call, false).await {
                tracing::warn!(?error, "could not record a missed call");
            }
        }
    }

    /// A connection closed: the calls it was a party of end
    /// (`connection_lost`).
    pub async fn calls_connection_closed(&self, user_id: &str, party_id: &str) {
        let party = Party {
            user_id: user_id.to_owned(),
            party_id: party_id.to_owned(),
        };
        for relayed in self.calls.take_relayed(party_id) {
            let hangup = ClientFrame::CallHangup {
                call_id: relayed.call_id,
                chat_id: relayed.chat_id,
                reason: Some(CONNECTION_LOST.into()),
            };
            self.relay(&party, &hangup, relayed.peer_id);
        }
        for (call_id, call) in self.calls.of_party(party_id) {
            self.to_both(
                &call,
                &ServerEvent::CallHangup {
                    call_id: call_id.clone(),
                    chat_id: call.chat_id.clone(),
                    user_id: user_id.to_owned(),
                    party_id: party_id.to_owned(),
                    reason: CONNECTION_LOST.into(),
                },
            );
            if let Err(error) = self.record_call(&call_id, &call, false).await {
                tracing::warn!(?error, "could not record a call");
            }
        }
    }

    /// Queues the call's history entry, sent by the caller: `declined`,
    /// else `ended` if it was answered, else `missed`. Announced like any
    /// message once it is stored.
    async fn record_call(&self, call_id: &str, call: &Call, declined: bool) -> CoreResult<()> {
        let (outcome, duration_ms) = match &call.phase {
            _ if declined => (CallOutcome::Declined, None),
            Phase::Ringing { .. } => (CallOutcome::Missed, None),
            Phase::Answered { at, .. } => (
                CallOutcome::Ended,
                Some(u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX)),
            ),
        };
        let metadata = Metadata {
            call: Some(CallRecord {
                call_id: call_id.to_owned(),
                outcome,
                duration_ms,
                video: call.video,
            }),
            ..Metadata::default()
        };
        // The append's own answer is not awaited: the store reports the
        // commit to the announcer whatever happens to this future.
        drop(
            self.store
                .queue_append(NewMessage {
                    id: new_id(),
                    chat_id: call.chat_id.clone(),
                    sender_id: call.caller.user_id.clone(),
                    message_type: MessageType::Call,
                    content: String::new(),
                    file_id: None,
                    metadata,
                    client_msg_id: None,
                    created_at: now_ms(),
                    owes_push: self.push_enabled() && outcome == CallOutcome::Missed,
                    mls_epoch: None,
                })
                .await?,
        );
        Ok(())
    }

    fn to_user(&self, user_id: &str, event: &ServerEvent) {
        self.bus.publish(Envelope::to_user(user_id, event));
    }

    fn to_both(&self, call: &Call, event: &ServerEvent) {
        let envelope = Envelope::to_user(&call.caller.user_id, event);
        self.bus
            .publish(envelope.readdressed(Subject::User(call.callee_id.clone())));
        self.bus.publish(envelope);
    }
}
