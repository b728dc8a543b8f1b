//! Voice messages: a `voice` message carries an audio file (by its bytes:
//! WebM or Ogg with Opus, M4A, MP3; [`media`] writes small real ones) and
//! `metadata.duration_ms` within `voice.max_duration_ms`, maybe a small
//! `metadata.waveform`. An audio-only WebM is served as `audio/webm`,
//! inline, with byte ranges; images, videos (a WebM or MP4 with a video
//! track) and missing files are refused, and so is bad metadata. A push
//! for one says "Voice message".

mod media;

use crate::fixtures::{file_path, get, get_with, header_of, ok, pdf, png, upload};
use crate::helpers::{
    TestServer, WAIT, assert_api_error, direct, group, history, new_messages, raw_get,
};
use crate::push::subscribed;
use natter_client::{Client, HistoryQuery, Method, header};
use natter_proto::ErrorCode;
use natter_proto::messages::{MessageType, Metadata, SendMessage};
use natter_test_services::push_service::PushService;

/// A voice message of `file_id` lasting `duration_ms`.
fn voice(chat_id: &str, file_id: &str, duration_ms: Option<i64>) -> SendMessage {
    SendMessage {
        message_type: MessageType::Voice,
        file_id: Some(file_id.to_owned()),
        metadata: Some(Metadata {
            duration_ms,
            ..Metadata::default()
        }),
        ..natter_client::text_message(chat_id, "")
    }
}

/// `voice` with a waveform.
fn with_waveform(mut message: SendMessage, waveform: Vec<i64>) -> SendMessage {
    if let Some(metadata) = message.metadata.as_mut() {
        metadata.waveform = Some(waveform);
    }
    message
}

/// Alice, Bob and their group; Alice's client.
async fn pair(server: &TestServer) -> (Client, Client, String) {
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = group(&alice, "walkie-talkie", &[&bob_auth]).await;
    (alice, bob, chat.summary.chat_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_notes_in_the_four_formats_reach_the_other_member_as_audio() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "walkie-talkie", &[&bob_auth])
        .await
        .summary
        .chat_id;
    let (mut socket, _) = server.socket(&bob_auth.access_token).await;
    let notes = [
        ("hello.webm", media::webm_opus(2), "audio/webm"),
        ("hello.ogg", media::ogg_opus(3), "audio/ogg"),
        ("hello.m4a", media::m4a(4), "audio/mp4"),
        ("hello.mp3", media::mp3(5), "audio/mpeg"),
    ];
    for (index, (name, bytes, mime)) in notes.iter().enumerate() {
        // The declared type is wrong on purpose: the bytes decide.
        let info = upload(&alice, name, bytes, "application/octet-stream").await;
        assert_eq!(info.mime, *mime, "{name}");
        let duration = 2_000 + 1_000 * index as i64;
        let waveform: Vec<i64> = (0..50).map(|i| (i * 5) % 256).collect();
        let message = with_waveform(
            voice(&chat_id, &info.file_id, Some(duration)),
            waveform.clone(),
        );
        alice
            .send(&message)
            .await
            .unwrap_or_else(|e| panic!("{name} as voice: {e}"));

        let live = new_messages(&mut socket, &chat_id, 1).await.remove(0);
        assert_eq!(live.message_type, MessageType::Voice, "{name}");
        assert_eq!(live.metadata.duration_ms, Some(duration), "{name}");
        assert_eq!(live.metadata.waveform.as_ref(), Some(&waveform), "{name}");
        let file = live.file.expect("a voice message carries its file");
        assert_eq!(
            (file.mime.as_str(), file.size),
            (*mime, bytes.len() as i64),
            "{name}"
        );
        let served = ok(get(&bob.without_token(), &file.url).await, name);
        assert_eq!(&served.body, bytes, "{name}");
        assert_eq!(header_of(&served, "content-type"), *mime, "{name}");
        let disposition = header_of(&served, "content-disposition");
        assert!(disposition.starts_with("inline"), "{name}: {disposition}");
    }

    let stored = history(&bob, &chat_id).await;
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().all(|m| m.message_type == MessageType::Voice));
    assert_eq!(stored[0].metadata.duration_ms, Some(2_000));
    let query = HistoryQuery::new().message_type(MessageType::Voice);
    let voices = bob
        .messages(&chat_id, &query)
        .await
        .expect("a page of voice notes");
    assert_eq!(voices.messages.len(), 4);
    let texts = HistoryQuery::new().message_type(MessageType::Text);
    assert!(
        bob.messages(&chat_id, &texts)
            .await
            .unwrap()
            .messages
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audio_webm_is_served_inline_with_byte_ranges() {
    let server = TestServer::spawn().await;
    let (alice, bob, chat_id) = pair(&server).await;
    let bytes = media::webm_opus(3);
    let info = upload(&alice, "note.webm", &bytes, "video/webm").await;
    assert_eq!(info.mime, "audio/webm");
    alice
        .send(&voice(&chat_id, &info.file_id, Some(3_000)))
        .await
        .expect("a voice note");
    let url = history(&bob, &chat_id).await[0]
        .file
        .clone()
        .expect("its file")
        .url;

    let whole = ok(get(&bob.without_token(), &url).await, "the whole note");
    assert_eq!(header_of(&whole, "accept-ranges"), "bytes");
    let part = get_with(
        &bob.without_token(),
        &url,
        &[(header::RANGE, "bytes=100-199")],
    )
    .await;
    assert_eq!(part.status, 206);
    assert_eq!(header_of(&part, "content-type"), "audio/webm");
    assert!(header_of(&part, "content-disposition").starts_with("inline"));
    assert_eq!(
        header_of(&part, "content-range"),
        format!("bytes 100-199/{}", bytes.len())
    );
    assert_eq!(part.body, bytes[100..200]);
    // By Bearer token too.
    let own = get_with(
        &alice,
        &file_path(&info.file_id),
        &[(header::RANGE, "bytes=-10")],
    )
    .await;
    assert_eq!(
        (own.status, &own.body[..]),
        (206, &bytes[bytes.len() - 10..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duration_is_required_positive_and_within_the_configured_cap() {
    let server = TestServer::spawn_with(|settings| settings.voice.max_duration_ms = 60_000).await;
    let (alice, _bob, chat_id) = pair(&server).await;
    let info = upload(&alice, "note.ogg", &media::ogg_opus(1), "audio/ogg").await;
    for duration in [None, Some(-5), Some(0), Some(60_001), Some(i64::MAX)] {
        let refused = alice.send(&voice(&chat_id, &info.file_id, duration)).await;
        let problem = assert_api_error(refused, ErrorCode::InvalidRequest);
        assert!(
            problem.detail.contains("duration_ms"),
            "{duration:?}: {problem:?}"
        );
    }
    alice
        .send(&voice(&chat_id, &info.file_id, Some(60_000)))
        .await
        .expect("at the cap");
    assert_eq!(history(&alice, &chat_id).await.len(), 1);

    // Clients learn the cap before recording.
    let answer = raw_get(&server.client(), Method::GET, "/api/v1/server").await;
    let info: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!(info["limits"]["max_voice_duration_ms"], 60_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_cap_is_fifteen_minutes() {
    let server = TestServer::spawn().await;
    let (alice, _bob, chat_id) = pair(&server).await;
    let info = upload(&alice, "note.mp3", &media::mp3(1), "audio/mpeg").await;
    let fifteen_minutes = 15 * 60 * 1000;
    let over = alice
        .send(&voice(&chat_id, &info.file_id, Some(fifteen_minutes + 1)))
        .await;
    assert_api_error(over, ErrorCode::InvalidRequest);
    alice
        .send(&voice(&chat_id, &info.file_id, Some(fifteen_minutes)))
        .await
        .expect("fifteen minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waveform_is_at_most_100_values_of_0_to_255() {
    let server = TestServer::spawn().await;
    let (alice, _bob, chat_id) = pair(&server).await;
    let info = upload(&alice, "note.webm", &media::webm_opus(1), "audio/webm").await;
    let note = || voice(&chat_id, &info.file_id, Some(1_000));
    for (waveform, what) in [
        (vec![7; 101], "101 values"),
        (vec![0, 256], "a value over 255"),
        (vec![-1, 3], "a negative value"),
    ] {
        let refused = alice.send(&with_waveform(note(), waveform)).await;
        let problem = assert_api_error(refused, ErrorCode::InvalidRequest);
        assert!(problem.detail.contains("waveform"), "{what}: {problem:?}");
    }
    let full: Vec<i64> = (0..100).map(|i| i * 255 / 99).collect();
    alice
        .send(&with_waveform(note(), full.clone()))
        .await
        .expect("100 values");
    alice.send(&note()).await.expect("no waveform at all");
    let stored = history(&alice, &chat_id).await;
    assert_eq!(stored[0].metadata.waveform, Some(full));
    assert_eq!(stored[1].metadata.waveform, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_videos_and_documents_are_not_voice_notes() {
    let server = TestServer::spawn().await;
    let (alice, _bob, chat_id) = pair(&server).await;
    let webm_video = upload(
        &alice,
        "screen.webm",
        &media::webm_with_video(1),
        "audio/webm",
    )
    .await;
    assert_eq!(webm_video.mime, "video/webm");
    let mp4_video = upload(&alice, "clip.mp4", &media::mp4_with_video(1), "audio/mp4").await;
    assert_eq!(mp4_video.mime, "video/mp4");
    let picture = upload(&alice, "face.png", &png(40, 40), "audio/webm").await;
    let document = upload(&alice, "notes.pdf", &pdf(2_000), "audio/mpeg").await;
    for (info, what) in [
        (&webm_video, "a WebM with a video track"),
        (&mp4_video, "an MP4 with a video track"),
        (&picture, "an image"),
        (&document, "a PDF"),
    ] {
        let refused = alice
            .send(&voice(&chat_id, &info.file_id, Some(1_000)))
            .await;
        let problem = assert_api_error(refused, ErrorCode::InvalidRequest);
        assert!(problem.detail.contains("audio"), "{what}: {problem:?}");
    }
    // A video WebM stays a downloadable attachment.
    let served = ok(get(&alice, &webm_video.url).await, "the video");
    assert!(header_of(&served, "content-disposition").starts_with("attachment"));
    assert!(history(&alice, &chat_id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_note_needs_a_file_and_voice_metadata_needs_a_voice_note() {
    let server = TestServer::spawn().await;
    let (alice, _bob, chat_id) = pair(&server).await;
    let mut without_file = voice(&chat_id, "x", Some(1_000));
    without_file.file_id = None;
    assert_api_error(alice.send(&without_file).await, ErrorCode::InvalidRequest);

    let mut text = natter_client::text_message(&chat_id, "not a voice note");
    text.metadata = Some(Metadata {
        duration_ms: Some(1_000),
        ..Metadata::default()
    });
    assert_api_error(alice.send(&text).await, ErrorCode::InvalidRequest);

    // An audio file may still go as a plain file message.
    let info = upload(&alice, "song.mp3", &media::mp3(1), "audio/mpeg").await;
    let mut file = voice(&chat_id, &info.file_id, None);
    (file.message_type, file.metadata) = (MessageType::File, None);
    alice.send(&file).await.expect("audio as a file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsider_cannot_post_a_voice_note_in_a_chat() {
    let server = TestServer::spawn().await;
    let (_alice, _bob, chat_id) = pair(&server).await;
    let (mallory, _) = server.user("mallory").await;
    let info = upload(&mallory, "spam.webm", &media::webm_opus(1), "audio/webm").await;
    let refused = mallory
        .send(&voice(&chat_id, &info.file_id, Some(1_000)))
        .await;
    assert_api_error(refused, ErrorCode::NotFound);
    // Bad metadata from an outsider says nothing but "not found" either.
    let refused = mallory
        .send(&voice(&chat_id, &info.file_id, Some(-1)))
        .await;
    assert_api_error(refused, ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_for_a_voice_note_says_voice_message() {
    let server = TestServer::spawn_with(|settings| {
        settings.push.vapid_subject = "mailto:ops@example.com".into();
        settings.push.allow_insecure_endpoints = true;
        settings.push.concurrency = 1;
    })
    .await;
    let service = PushService::start().await;
    let key = server.client().vapid_key().await.expect("the VAPID key");
    service.expect_vapid_key(&key);
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (endpoint, _) = subscribed(&service, &bob).await;

    let info = upload(&alice, "hi.webm", &media::webm_opus(2), "audio/webm").await;
    alice
        .send(&voice(&chat_id, &info.file_id, Some(2_000)))
        .await
        .expect("a voice note");
    let pushes = service.wait_for(&endpoint.endpoint, 1, WAIT).await;
    let payload = pushes[0].json.clone().expect("a JSON payload");
    assert_eq!(payload["body"], "Voice message");
}

/// Uploads `bytes` (declared as audio), expects it stored as `mime`, and
/// expects a voice message of it refused and the file served as an
/// attachment.
async fn not_a_voice_note(alice: &Client, chat_id: &str, name: &str, bytes: &[u8], mime: &str) {
    let info = upload(alice, name, bytes, "audio/webm").await;
    assert_eq!(info.mime, mime, "{name}");
    let refused = alice
        .send(&voice(chat_id, &info.file_id, Some(1_000)))
        .await;
    let problem = assert_api_error(refused, ErrorCode::InvalidRequest);
    assert!(problem.detail.contains("audio"), "{name}: {problem:?}");
    let served = ok(get(alice, &info.url).await, name);
    let disposition = header_of(&served, "content-disposition");
    assert!(
        disposition.starts_with("attachment"),
        "{name}: {disposition}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mp4_and_ogg_are_audio_only_when_their_tracks_say_so() {
    let server = TestServer::spawn().await;
    let (alice, _bob, chat_id) = pair(&server).await;
    // The `M4A ` brand alone says nothing: tracks unread are not audio.
    let mut branded = b"M4A ".to_vec();
    branded.extend([0x42; 64]);
    not_a_voice_note(&alice, &chat_id, "bare.m4a", &branded, "video/mp4").await;
    // A track with a handler that may be shown (a picture) beside sound.
    let picture = media::m4a_with_track(b"pict", 1);
    not_a_voice_note(&alice, &chat_id, "cover.m4a", &picture, "video/mp4").await;
    // Timed text beside the sound is still audio.
    let lyrics = upload(
        &alice,
        "lyrics.m4a",
        &media::m4a_with_track(b"text", 1),
        "x/y",
    )
    .await;
    assert_eq!(lyrics.mime, "audio/mp4");
    alice
        .send(&voice(&chat_id, &lyrics.file_id, Some(1_000)))
        .await
        .expect("sound and timed text");
    // An Ogg of a codec not known here, or with a stream cut off.
    let unknown = media::ogg_unknown_codec();
    not_a_voice_note(&alice, &chat_id, "odd.ogg", &unknown, "application/ogg").await;
    let cut = media::ogg_cut_second_stream();
    not_a_voice_note(&alice, &chat_id, "cut.ogg", &cut, "application/ogg").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id3_tag_in_front_of_a_video_is_not_mp3() {
    let server = TestServer::spawn().await;
    let (alice, _bob, chat_id) = pair(&server).await;
    let disguised = [
        (
            "webm.mp3",
            media::id3_in_front_of(&media::webm_with_video(1), 0),
        ),
        (
            "mp4.mp3",
            media::id3_in_front_of(&media::mp4_with_video(1), 300),
        ),
        ("pdf.mp3", media::id3_in_front_of(&pdf(2_000), 20)),
        ("bare.mp3", b"ID3\x04\0\0\0\0\0\0".to_vec()),
    ];
    for (name, bytes) in &disguised {
        not_a_voice_note(&alice, &chat_id, name, bytes, "application/octet-stream").await;
    }
    // Real MP3 still is, its frames found past a tag longer than the
    // first bytes sniffed (cover art, say).
    for padding in [0, 20_000] {
        let info = upload(&alice, "song.mp3", &media::mp3_after_tag(padding, 2), "x/y").await;
        assert_eq!(info.mime, "audio/mpeg", "a tag of {padding} bytes");
        alice
            .send(&voice(&chat_id, &info.file_id, Some(2_000)))
            .await
            .expect("an MP3 voice note");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsider_gets_not_found_whatever_the_voice_note_lacks() {
    let server = TestServer::spawn().await;
    let (alice, _bob, chat_id) = pair(&server).await;
    let (mallory, _) = server.user("mallory").await;
    let info = upload(&mallory, "spam.webm", &media::webm_opus(1), "audio/webm").await;
    let mut bare = voice(&chat_id, &info.file_id, None);
    bare.metadata = None;
    assert_api_error(mallory.send(&bare).await, ErrorCode::NotFound);
    let picture = upload(&mallory, "face.png", &png(8, 8), "image/png").await;
    let not_audio = voice(&chat_id, &picture.file_id, Some(1_000));
    assert_api_error(mallory.send(&not_audio).await, ErrorCode::NotFound);
    let long = with_waveform(voice(&chat_id, &info.file_id, Some(1_000)), vec![1; 101]);
    assert_api_error(mallory.send(&long).await, ErrorCode::NotFound);
    // A member is told what is wrong.
    let mine = upload(&alice, "note.webm", &media::webm_opus(1), "audio/webm").await;
    let mut bare = voice(&chat_id, &mine.file_id, None);
    bare.metadata = None;
    let problem = assert_api_error(alice.send(&bare).await, ErrorCode::InvalidRequest);
    assert!(problem.detail.contains("duration_ms"), "{problem:?}");
    let long = with_waveform(voice(&chat_id, &mine.file_id, Some(1_000)), vec![1; 1_000]);
    let problem = assert_api_error(alice.send(&long).await, ErrorCode::InvalidRequest);
    assert!(problem.detail.contains("at most 100"), "{problem:?}");
}
