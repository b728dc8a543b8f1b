//! The MLS KeyPackage directory: a device uploads real KeyPackages (made
//! here with openmls, as a client would), each checked and a bad one
//! named; anyone signed in claims one per device of a user, each handed
//! out exactly once even when claims race, then the last-resort one; a
//! device that ends takes its KeyPackages with it.

use crate::helpers::{PASSWORD, TestServer, assert_problem, raw_get, raw_json};
use natter_client::{Client, Method, RawResponse};
use natter_proto::ErrorCode;
use natter_proto::auth::LoginRequest;
use natter_proto::key_packages::{ClaimedKeyPackages, KeyPackageCount};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use serde_json::json;
use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// An MLS client with a signature key and a basic credential whose
/// identity is whatever the test says (normally `"<user_id>:<device_id>"`).
struct MlsClient {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

impl MlsClient {
    fn new(identity: &str, suite: Ciphersuite) -> MlsClient {
        let signer = SignatureKeyPair::new(suite.signature_algorithm()).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        MlsClient {
            provider: OpenMlsRustCrypto::default(),
            signer,
            credential,
        }
    }

    /// The bytes of a fresh KeyPackage's `MLSMessage`, built by `builder`.
    fn key_package_bytes(&self, suite: Ciphersuite, builder: KeyPackageBuilder) -> Vec<u8> {
        let bundle = builder
            .build(suite, &self.provider, &self.signer, self.credential.clone())
            .unwrap();
        MlsMessageOut::from(bundle.key_package().clone())
            .tls_serialize_detached()
            .unwrap()
    }

    /// A fresh ordinary KeyPackage, base64.
    fn key_package(&self) -> String {
        b64(&self.key_package_bytes(SUITE, KeyPackage::builder()))
    }

    /// A fresh last-resort KeyPackage (its leaf lists the extension), base64.
    fn last_resort(&self) -> String {
        let builder = KeyPackage::builder()
            .mark_as_last_resort()
            .leaf_node_capabilities(
                Capabilities::builder()
                    .extensions(vec![ExtensionType::LastResort])
                    .build(),
            );
        b64(&self.key_package_bytes(SUITE, builder))
    }
}

impl MlsClient {
    /// The `MLSMessage`s of a Welcome (adding `other`) and a GroupInfo of
    /// a fresh group of this client's: MLS objects that are no KeyPackage.
    fn welcome_and_group_info(&self, other: &MlsClient) -> (Vec<u8>, Vec<u8>) {
        let mut group = MlsGroup::new(
            &self.provider,
            &self.signer,
            &MlsGroupCreateConfig::builder().ciphersuite(SUITE).build(),
            self.credential.clone(),
        )
        .unwrap();
        let bundle = KeyPackage::builder()
            .build(
                SUITE,
                &other.provider,
                &other.signer,
                other.credential.clone(),
            )
            .unwrap();
        let (_, welcome, _) = group
            .add_members(
                &self.provider,
                &self.signer,
                &[bundle.key_package().clone()],
            )
            .unwrap();
        let group_info = group
            .export_group_info(self.provider.crypto(), &self.signer, true)
            .unwrap();
        (
            welcome.tls_serialize_detached().unwrap(),
            group_info.tls_serialize_detached().unwrap(),
        )
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signed-in device: its client, its MLS client and its ids.
struct Device {
    client: Client,
    user_id: String,
    device_id: String,
    mls: MlsClient,
    refresh_token: String,
}

async fn register(server: &TestServer, username: &str) -> Device {
    let (client, auth) = server.user(username).await;
    device(client, auth.user.user_id, auth.refresh_token).await
}

async fn login(server: &TestServer, username: &str, name: &str) -> Device {
    let auth = server
        .client()
        .login_with(&LoginRequest {
            username: username.into(),
            password: PASSWORD.into(),
            device_name: Some(name.into()),
        })
        .await
        .unwrap();
    let client = server.client().with_token(auth.access_token.clone());
    device(client, auth.user.user_id, auth.refresh_token).await
}

async fn device(client: Client, user_id: String, refresh_token: String) -> Device {
    let devices = client.devices().await.unwrap();
    let device_id = devices.into_iter().find(|d| d.current).unwrap().device_id;
    let mls = MlsClient::new(&format!("{user_id}:{device_id}"), SUITE);
    Device {
        client,
        user_id,
        device_id,
        mls,
        refresh_token,
    }
}

async fn upload(device: &Device, body: serde_json::Value) -> RawResponse {
    raw_json(
        &device.client,
        Method::POST,
        "/api/v1/mls/key-packages",
        &body,
    )
    .await
}

/// Uploads `count` fresh KeyPackages and a last-resort one if asked;
/// panics unless stored.
async fn stock_up(device: &Device, count: usize, last_resort: bool) -> Vec<String> {
    let key_packages: Vec<String> = (0..count).map(|_| device.mls.key_package()).collect();
    let mut body = json!({ "key_packages": key_packages });
    if last_resort {
        body["last_resort"] = json!(device.mls.last_resort());
    }
    let response = upload(device, body).await;
    assert_eq!(response.status, 201, "{}", response.text());
    key_packages
}

async fn count_of(device: &Device) -> KeyPackageCount {
    let response = raw_get(&device.client, Method::GET, "/api/v1/mls/key-packages").await;
    assert_eq!(response.status, 200, "{}", response.text());
    serde_json::from_slice(&response.body).unwrap()
}

async fn claim(client: &Client, user_id: &str) -> RawResponse {
    let path = format!("/api/v1/users/{user_id}/key-packages/claim");
    raw_get(client, Method::POST, &path).await
}

async fn claimed(client: &Client, user_id: &str) -> ClaimedKeyPackages {
    let response = claim(client, user_id).await;
    assert_eq!(response.status, 200, "{}", response.text());
    serde_json::from_slice(&response.body).unwrap()
}

/// Asserts a 400 whose detail starts with `field: ` and mentions `words`.
#[track_caller]
fn assert_named(response: &RawResponse, field: &str, words: &str) {
    let problem = assert_problem(response, ErrorCode::InvalidRequest);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("{field}: ")) && detail.contains(words),
        "{field} / {words}: {detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_uploads_key_packages_and_sees_its_count() {
    let server = TestServer::spawn().await;
    let alice = register(&server, "alice").await;
    assert_eq!(
        count_of(&alice).await,
        KeyPackageCount {
            count: 0,
            last_resort: false
        }
    );
    let first = alice.mls.key_package();
    let response = upload(
        &alice,
        json!({ "key_packages": [first, alice.mls.key_package()], "last_resort": alice.mls.last_resort() }),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let answer: KeyPackageCount = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        answer,
        KeyPackageCount {
            count: 2,
            last_resort: true
        }
    );
    // The same KeyPackage again is ignored; a new last resort replaces the old.
    let response = upload(
        &alice,
        json!({ "key_packages": [first], "last_resort": alice.mls.last_resort() }),
    )
    .await;
    assert_eq!(response.text(), r#"{"count":2,"last_resort":true}"#);
    assert_eq!(
        count_of(&alice).await,
        KeyPackageCount {
            count: 2,
            last_resort: true
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_last_resort_replaces_the_old_one_in_claims() {
    let server = TestServer::spawn().await;
    let alice = register(&server, "alice").await;
    let bob = register(&server, "bob").await;
    let first = alice.mls.last_resort();
    let response = upload(
        &alice,
        json!({ "key_packages": [alice.mls.key_package()], "last_resort": first }),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let second = alice.mls.last_resort();
    let response = upload(&alice, json!({ "last_resort": second })).await;
    assert_eq!(response.text(), r#"{"count":1,"last_resort":true}"#);

    let drained = claimed(&bob.client, &alice.user_id).await;
    assert!(!drained.key_packages[0].last_resort, "{drained:?}");
    let handed = claimed(&bob.client, &alice.user_id).await;
    assert_eq!(handed.key_packages.len(), 1, "{handed:?}");
    assert!(handed.key_packages[0].last_resort);
    assert_eq!(handed.key_packages[0].key_package, second, "the newer one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_key_package_is_refused_naming_it_and_nothing_is_stored() {
    let server = TestServer::spawn().await;
    let alice = register(&server, "alice").await;
    let bob = register(&server, "bob").await;
    let good = || alice.mls.key_package();

    // The signature: the KeyPackage's own signature ends the message.
    let mut tampered = alice.mls.key_package_bytes(SUITE, KeyPackage::builder());
    *tampered.last_mut().unwrap() ^= 1;
    // Another ciphersuite (P-256), with a matching signer.
    let p256 = Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;
    let other_suite = MlsClient::new(&format!("{}:{}", alice.user_id, alice.device_id), p256)
        .key_package_bytes(p256, KeyPackage::builder());
    // Another device's identity: bob's, and alice's other device id.
    let bobs = bob.mls.key_package();
    let foreign =
        MlsClient::new(&format!("{}:not-this-device", alice.user_id), SUITE).key_package();
    // Expired an hour ago.
    let past = unix_now() - 7200;
    let expired = alice.mls.key_package_bytes(
        SUITE,
        KeyPackage::builder().key_package_lifetime(Lifetime::init(past, past + 3600)),
    );
    // Ends more than a year from now.
    let now = unix_now();
    let too_long = alice.mls.key_package_bytes(
        SUITE,
        KeyPackage::builder().key_package_lifetime(Lifetime::init(now - 60, now + 400 * 86_400)),
    );
    // Not a KeyPackage: garbage, and a bare KeyPackage without its MLSMessage.
    let bare = {
        let bundle = KeyPackage::builder()
            .build(
                SUITE,
                &alice.mls.provider,
                &alice.mls.signer,
                alice.mls.credential.clone(),
            )
            .unwrap();
        bundle.key_package().tls_serialize_detached().unwrap()
    };

    // Not begun yet: valid from in an hour.
    let not_yet = alice.mls.key_package_bytes(
        SUITE,
        KeyPackage::builder().key_package_lifetime(Lifetime::init(now + 3600, now + 3 * 86_400)),
    );
    // Ends within the hour: too short-lived to store.
    let short = alice.mls.key_package_bytes(
        SUITE,
        KeyPackage::builder().key_package_lifetime(Lifetime::init(now - 60, now + 3600)),
    );
    let (welcome, group_info) = alice.mls.welcome_and_group_info(&bob.mls);

    let cases: Vec<(String, &str)> = vec![
        (b64(&not_yet), "its lifetime has not begun"),
        (b64(&short), "less than a day"),
        (b64(&welcome), "not a KeyPackage"),
        (b64(&group_info), "not a KeyPackage"),
        (b64(&tampered), "the signature does not verify"),
        (b64(&other_suite), "ciphersuite 0x0002 is not accepted"),
        (bobs, "the credential is not this device's"),
        (foreign, "the credential is not this device's"),
        (b64(&expired), "its lifetime has ended"),
        (b64(&too_long), "more than a year"),
        (b64(b"not an MLS message"), "not a TLS-encoded MLSMessage"),
        (b64(&bare), "not a TLS-encoded MLSMessage"),
        ("***".into(), "not standard base64"),
        (alice.mls.last_resort(), "upload it as last_resort"),
    ];
    for (bad, words) in cases {
        // The bad one third, after two good ones.
        let response = upload(&alice, json!({ "key_packages": [good(), good(), bad] })).await;
        assert_named(&response, "key_packages[2]", words);
    }
    let response = upload(
        &alice,
        json!({ "key_packages": [good()], "last_resort": good() }),
    )
    .await;
    assert_named(&response, "last_resort", "lacks the last_resort extension");
    let response = upload(&alice, json!({ "last_resort": b64(&tampered) })).await;
    assert_named(&response, "last_resort", "the signature does not verify");
    assert_eq!(
        count_of(&alice).await,
        KeyPackageCount {
            count: 0,
            last_resort: false
        },
        "nothing of a refused upload is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_bounded_in_number_size_and_stock() {
    let server = TestServer::spawn().await;
    let alice = register(&server, "alice").await;
    let hundred_one: Vec<String> = (0..101).map(|_| alice.mls.key_package()).collect();
    let response = upload(&alice, json!({ "key_packages": hundred_one })).await;
    assert_named(&response, "key_packages", "at most 100 per request");
    let response = upload(&alice, json!({ "key_packages": [] })).await;
    assert_named(&response, "key_packages", "nothing to upload");
    let huge = b64(&vec![0u8; 16 * 1024 + 1]);
    let response = upload(
        &alice,
        json!({ "key_packages": [alice.mls.key_package(), huge] }),
    )
    .await;
    assert_named(&response, "key_packages[1]", "larger than 16384 bytes");

    stock_up(&alice, 100, false).await;
    stock_up(&alice, 100, true).await;
    assert_eq!(count_of(&alice).await.count, 200);
    let response = upload(&alice, json!({ "key_packages": [alice.mls.key_package()] })).await;
    let problem = assert_problem(&response, ErrorCode::Conflict);
    assert!(
        problem["detail"].as_str().unwrap().contains("at most 200"),
        "{problem}"
    );
    // Refused before anything is verified: a bad one makes no 400 then.
    let response = upload(&alice, json!({ "key_packages": [b64(b"garbage")] })).await;
    assert_problem(&response, ErrorCode::Conflict);
    assert_eq!(count_of(&alice).await.count, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_s_key_packages_must_keep_the_signature_key_of_its_first() {
    let server = TestServer::spawn().await;
    let alice = register(&server, "alice").await;
    stock_up(&alice, 1, false).await;
    let identity = format!("{}:{}", alice.user_id, alice.device_id);
    let impostor = MlsClient::new(&identity, SUITE);
    let response = upload(&alice, json!({ "key_packages": [impostor.key_package()] })).await;
    assert_named(&response, "key_packages[0]", "another signature key");
    let response = upload(
        &alice,
        json!({ "key_packages": [alice.mls.key_package(), impostor.key_package()] }),
    )
    .await;
    assert_named(&response, "key_packages[1]", "another signature key");
    assert_eq!(count_of(&alice).await.count, 1);
    stock_up(&alice, 1, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_rate_limited_per_user_before_anything_is_decoded() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.key_package_uploads_per_user_per_minute = 2;
    })
    .await;
    let alice = register(&server, "alice").await;
    let bob = register(&server, "bob").await;
    let garbage = json!({ "key_packages": [b64(b"garbage")] });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(upload(&alice, garbage.clone()).await.status);
    }
    assert_eq!(statuses, [400, 400, 429]);
    assert_eq!(upload(&bob, garbage).await.status, 400, "per user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_of_one_user_by_one_claimer_have_a_lower_limit() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.key_package_claims_per_target_per_minute = 2;
    })
    .await;
    let alice = register(&server, "alice").await;
    let bob = register(&server, "bob").await;
    let carol = register(&server, "carol").await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(claim(&alice.client, &bob.user_id).await.status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(claim(&alice.client, &carol.user_id).await.status, 200);
    assert_eq!(claim(&carol.client, &bob.user_id).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_claims_get_ten_distinct_key_packages_then_the_last_resort() {
    let server = TestServer::spawn().await;
    let bob = register(&server, "bob").await;
    let alice = register(&server, "alice").await;
    let uploaded: HashSet<String> = stock_up(&bob, 10, true).await.into_iter().collect();

    let claims: Vec<_> = (0..10)
        .map(|_| {
            let (client, user_id) = (alice.client.clone(), bob.user_id.clone());
            tokio::spawn(async move { claimed(&client, &user_id).await })
        })
        .collect();
    let mut handed_out = HashSet::new();
    for task in claims {
        let answer = task.await.unwrap();
        assert_eq!(answer.key_packages.len(), 1, "{answer:?}");
        let one = &answer.key_packages[0];
        assert_eq!(one.device_id, bob.device_id);
        assert!(!one.last_resort);
        assert!(
            uploaded.contains(&one.key_package),
            "handed out as uploaded"
        );
        assert!(
            handed_out.insert(one.key_package.clone()),
            "handed out twice"
        );
    }
    assert_eq!(handed_out.len(), 10);
    assert_eq!(
        count_of(&bob).await,
        KeyPackageCount {
            count: 0,
            last_resort: true
        }
    );

    let eleventh = claimed(&alice.client, &bob.user_id).await;
    assert_eq!(eleventh.key_packages.len(), 1);
    assert!(eleventh.key_packages[0].last_resort, "{eleventh:?}");
    assert!(!uploaded.contains(&eleventh.key_packages[0].key_package));
    let twelfth = claimed(&alice.client, &bob.user_id).await;
    assert_eq!(
        twelfth.key_packages, eleventh.key_packages,
        "the last resort is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_gives_one_per_live_device_and_never_one_of_an_ended_device() {
    let server = TestServer::spawn().await;
    let bob = register(&server, "bob").await;
    let phone = login(&server, "bob", "Phone").await;
    let tablet = login(&server, "bob", "Tablet").await;
    let silent = login(&server, "bob", "Never uploads").await;
    let alice = register(&server, "alice").await;
    for device in [&bob, &phone, &tablet] {
        stock_up(device, 3, false).await;
    }
    assert_eq!(count_of(&silent).await.count, 0);

    let answer = claimed(&alice.client, &bob.user_id).await;
    let devices: Vec<&str> = answer
        .key_packages
        .iter()
        .map(|k| k.device_id.as_str())
        .collect();
    assert_eq!(
        devices,
        [&bob.device_id, &phone.device_id, &tablet.device_id],
        "one per device that has one, oldest first"
    );
    // Bob claims his own too (his other devices join his chats), but
    // never the calling device's.
    let own: Vec<String> = claimed(&bob.client, &bob.user_id)
        .await
        .key_packages
        .into_iter()
        .map(|k| k.device_id)
        .collect();
    assert_eq!(own, [phone.device_id.clone(), tablet.device_id.clone()]);

    // The phone is removed, the tablet logs out: theirs are never handed out.
    let response = raw_json(
        &bob.client,
        Method::DELETE,
        &format!("/api/v1/devices/{}", phone.device_id),
        &json!({ "password": PASSWORD }),
    )
    .await;
    assert_eq!(response.status, 204, "{}", response.text());
    tablet.client.logout(&tablet.refresh_token).await.unwrap();
    let answer = claimed(&alice.client, &bob.user_id).await;
    let devices: Vec<&str> = answer
        .key_packages
        .iter()
        .map(|k| k.device_id.as_str())
        .collect();
    assert_eq!(devices, [&bob.device_id]);
    let last = claimed(&alice.client, &bob.user_id).await;
    assert_eq!(last.key_packages.len(), 1, "bob's third: {last:?}");
    assert!(
        claimed(&alice.client, &bob.user_id)
            .await
            .key_packages
            .is_empty(),
        "bob's own device has none left, the ended ones stay out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_needs_a_token_and_a_known_user() {
    let server = TestServer::spawn().await;
    let alice = register(&server, "alice").await;
    let anonymous = server.client();
    let response = raw_get(&anonymous, Method::GET, "/api/v1/mls/key-packages").await;
    assert_problem(&response, ErrorCode::Unauthorized);
    let response = raw_json(
        &anonymous,
        Method::POST,
        "/api/v1/mls/key-packages",
        &json!({ "key_packages": [alice.mls.key_package()] }),
    )
    .await;
    assert_problem(&response, ErrorCode::Unauthorized);
    assert_problem(
        &claim(&anonymous, &alice.user_id).await,
        ErrorCode::Unauthorized,
    );

    let response = claim(&alice.client, "0190aaaa-0000-7000-8000-000000000000").await;
    assert_problem(&response, ErrorCode::NotFound);
    assert!(
        claimed(&alice.client, &alice.user_id)
            .await
            .key_packages
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_rate_limited_per_claiming_user() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.key_package_claims_per_user_per_minute = 2;
    })
    .await;
    let alice = register(&server, "alice").await;
    let bob = register(&server, "bob").await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(claim(&alice.client, &bob.user_id).await.status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(
        claim(&bob.client, &alice.user_id).await.status,
        200,
        "per claimer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_directory() {
    let server = TestServer::spawn().await;
    let response = raw_get(&server.client(), Method::GET, "/api/v1/openapi.json").await;
    let doc = response.json().unwrap();
    for (path, method) in [
        ("/api/v1/mls/key-packages", "post"),
        ("/api/v1/mls/key-packages", "get"),
        ("/api/v1/users/{user_id}/key-packages/claim", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    for schema in ["UploadKeyPackages", "KeyPackageCount", "ClaimedKeyPackages"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
