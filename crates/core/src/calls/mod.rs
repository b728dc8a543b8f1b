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
//! the invite: both parties' frames must reach that node (true with one
//! node; in a cluster only when both parties' sockets are on it), and a
//! node that dies ends its calls without an entry. Media never passes
//! through the server; [`turn`] hands out TURN credentials.

mod checks;
pub mod table;
pub mod turn;

use crate::{Caller, Core, CoreError, CoreResult, new_id, now_ms};
use checks::{check_candidates, check_reason, check_sdp};
use natter_bus::Envelope;
use natter_proto::calls::{CallOutcome, CallRecord, SdpType, SessionDescription};
use natter_proto::chats::ChatType;
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::messages::{MessageType, Metadata};
use natter_store::NewMessage;
use std::time::{Duration, Instant};
use table::{Call, Party, Phase, Refused, Side};

/// How long an invite rings when the frame does not say.
pub const DEFAULT_LIFETIME_MS: u64 = 60_000;
/// The shortest and longest lifetime an invite may ask for.
pub const LIFETIME_MS: std::ops::RangeInclusive<u64> = 1_000..=120_000;

impl Core {
    /// Handles one signaling frame (`call.*`) from the connection
    /// `party_id` of `caller`. A chat the caller is not in, a call they are
    /// not a party of, or one that has ended is `not_found`.
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
        match frame {
            ClientFrame::CallInvite {
                call_id,
                chat_id,
                offer,
                lifetime_ms,
                video,
            } => {
                self.call_invite(party, call_id, chat_id, offer, lifetime_ms, video)
                    .await
            }
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
                check_candidates(&candidates)?;
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
                check_sdp("description", &description, None)?;
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
                let reason = check_reason(reason)?;
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
        let (chat_type, _) = self.role_in(&chat_id, &party.user_id).await?;
        if chat_type != ChatType::Direct {
            return Err(CoreError::invalid(
                "calls are one-to-one: only in a direct chat",
            ));
        }
        let callee_id = self
            .store
            .members(&chat_id)
            .await?
            .into_iter()
            .map(|member| member.user_id)
            .find(|user_id| *user_id != party.user_id)
            .ok_or_else(|| CoreError::invalid("nobody else is in this chat"))?;
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
        check_sdp("answer", &answer, Some(SdpType::Answer))?;
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
        for (call_id, call) in self.calls.of_party(party_id) {
            self.to_both(
                &call,
                &ServerEvent::CallHangup {
                    call_id: call_id.clone(),
                    chat_id: call.chat_id.clone(),
                    user_id: user_id.to_owned(),
                    party_id: party_id.to_owned(),
                    reason: "connection_lost".into(),
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
            .publish(envelope.readdressed(natter_bus::Subject::User(call.callee_id.clone())));
        self.bus.publish(envelope);
    }
}
