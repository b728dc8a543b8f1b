//! The link preview cache: one row per normalized URL, replaced by a
//! newer fetch, kept across restarts, and telling which image it replaced.

use super::Backend;
use crate::{LinkPreviewRow, PreviewImageRow};

fn found(url: &str, at: i64, image: Option<&str>) -> LinkPreviewRow {
    LinkPreviewRow {
        url: url.to_owned(),
        fetched_at: at,
        found: true,
        title: Some("Title ✓".into()),
        description: Some("A description\nover two lines".into()),
        site_name: None,
        image: image.map(|id| PreviewImageRow {
            id: id.to_owned(),
            width: 320,
            height: 180,
        }),
    }
}

/// A stored fetch reads back as written (negative entries too), a newer
/// fetch replaces it and names the image it replaced, URLs are distinct
/// keys, and all of it survives a restart.
pub async fn a_link_preview_is_cached_per_url_and_replaced_by_a_newer_fetch(backend: &dyn Backend) {
    let f = backend.open().await;
    let page = "https://example.com/page";
    assert_eq!(f.store.link_preview(page).await.unwrap(), None);

    let first = found(page, 1_000, Some("img-1"));
    assert_eq!(f.store.put_link_preview(first.clone()).await.unwrap(), None);
    assert_eq!(f.store.link_preview(page).await.unwrap(), Some(first));

    let second = found(page, 2_000, Some("img-2"));
    assert_eq!(
        f.store.put_link_preview(second.clone()).await.unwrap(),
        Some("img-1".to_owned()),
        "the replaced row's image, for the caller to delete"
    );
    assert_eq!(f.store.link_preview(page).await.unwrap(), Some(second));

    let nothing = LinkPreviewRow {
        url: "https://example.com/empty".into(),
        fetched_at: 3_000,
        found: false,
        title: None,
        description: None,
        site_name: None,
        image: None,
    };
    assert_eq!(
        f.store.put_link_preview(nothing.clone()).await.unwrap(),
        None
    );
    assert_eq!(
        f.store
            .link_preview("https://example.com/page/")
            .await
            .unwrap(),
        None,
        "URLs are exact keys: normalizing is the caller's"
    );

    let f = backend.reopen(f).await;
    assert_eq!(
        f.store.link_preview(&nothing.url).await.unwrap(),
        Some(nothing)
    );
    let without_image = found(page, 4_000, None);
    assert_eq!(
        f.store
            .put_link_preview(without_image.clone())
            .await
            .unwrap(),
        Some("img-2".to_owned())
    );
    assert_eq!(
        f.store.link_preview(page).await.unwrap(),
        Some(without_image)
    );
    assert_eq!(
        f.store
            .put_link_preview(found(page, 5_000, None))
            .await
            .unwrap(),
        None,
        "the replaced row had no image"
    );
}

/// Puts of one URL racing each other (from many nodes, for PostgreSQL)
/// report every image they replace exactly once: none is left without
/// an owner to delete its blob, none is deleted twice.
pub async fn concurrent_puts_of_one_url_report_each_replaced_image_once(backend: &dyn Backend) {
    let f = backend.open().await;
    for round in 0..5 {
        let page = format!("https://example.com/race/{round}");
        let puts: Vec<_> = (0..8)
            .map(|n| {
                let store = f.store.clone();
                let row = found(&page, 1_000 + n, Some(&format!("img-{round}-{n}")));
                tokio::spawn(async move { store.put_link_preview(row).await.unwrap() })
            })
            .collect();
        let mut replaced = Vec::new();
        for put in puts {
            replaced.extend(put.await.unwrap());
        }
        let kept = f.store.link_preview(&page).await.unwrap().unwrap();
        replaced.push(kept.image.unwrap().id);
        replaced.sort();
        let mut all: Vec<String> = (0..8).map(|n| format!("img-{round}-{n}")).collect();
        all.sort();
        assert_eq!(
            replaced, all,
            "every image is either kept or reported replaced, once"
        );
    }
}

/// The sweep deletes the rows fetched before its cutoff, found or not,
/// and names the images they had; newer rows stay.
pub async fn stale_link_previews_are_swept_and_name_their_images(backend: &dyn Backend) {
    let f = backend.open().await;
    let failed = LinkPreviewRow {
        found: false,
        title: None,
        description: None,
        image: None,
        ..found("https://example.com/failed", 1_000, None)
    };
    for row in [
        found("https://example.com/old", 1_000, Some("img-old")),
        found("https://example.com/old-plain", 1_500, None),
        failed,
        found("https://example.com/new", 5_000, Some("img-new")),
    ] {
        f.store.put_link_preview(row).await.unwrap();
    }
    assert_eq!(
        f.store.delete_link_previews_before(2_000).await.unwrap(),
        vec!["img-old".to_owned()]
    );
    for gone in ["old", "old-plain", "failed"] {
        let url = format!("https://example.com/{gone}");
        assert_eq!(f.store.link_preview(&url).await.unwrap(), None, "{gone}");
    }
    assert!(
        f.store
            .link_preview("https://example.com/new")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        f.store.delete_link_previews_before(2_000).await.unwrap(),
        Vec::<String>::new(),
        "nothing is named twice"
    );
    assert_eq!(
        f.store
            .put_link_preview(found("https://example.com/old", 6_000, None))
            .await
            .unwrap(),
        None,
        "a swept row's image is not reported again by a put"
    );
}
