//! `endpoint-harness review`: the pending candidates (`<n>.png.new` written
//! by a local verify run) served as one page on 127.0.0.1, each beside the
//! reference it would replace or join (its own class's, else the nearest
//! other class's): expected, actual and diff, the figures, both
//! fingerprints, and the class it would become. Accept or reject each with a
//! button or a key (`a`, `r`, `j`/`k` to move); accepting writes the
//! reference with its provenance, as `snapshots accept` does. A token in the
//! page guards the two POST routes against other pages of the browser.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use image::DynamicImage;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::snapshot::metrics::{diff_image, measure};

/// One candidate waiting for a person.
struct Pending {
    /// `<dir>/<n>.png.new`.
    png: PathBuf,
    /// The reference shown beside it, when there is one.
    reference: Option<PathBuf>,
}

/// The server's state: the reference folder and the page's token.
struct Review {
    root: PathBuf,
    token: String,
}

/// Every pending candidate image under `root` (its `.snap.new` goes with it).
fn pending(root: &Path) -> Vec<Pending> {
    crate::snapshot::pending(root)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".png.new"))
        .map(|png| {
            let reference = reference_for(&png);
            Pending { png, reference }
        })
        .collect()
}

/// The reference a candidate is judged against: its own folder's `<n>.png`,
/// else the same image of the scenario's other classes (the default folder
/// first).
fn reference_for(png_new: &Path) -> Option<PathBuf> {
    let dir = png_new.parent()?;
    let name = png_new.file_name()?.to_string_lossy().trim_end_matches(".new").to_string();
    let own = dir.join(&name);
    if own.is_file() {
        return Some(own);
    }
    // `<scenario>/classes/<slug>/` or `<scenario>/variants/<name>/`: the scenario's folder is two up.
    let up = dir.parent()?;
    let base = match up.file_name()?.to_str()? {
        "classes" | "variants" => up.parent()?,
        _ => dir,
    };
    let mut candidates = vec![base.join(&name)];
    for group in ["classes", "variants"] {
        let mut subs: Vec<PathBuf> = std::fs::read_dir(base.join(group))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join(&name))
            .collect();
        subs.sort();
        candidates.extend(subs);
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// The `key: value` lines of a `.snap` record that say where it came from.
fn facts(snap: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(snap).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| k.starts_with("fingerprint.") || ["class", "endpoint", "accepted", "commit"].contains(k))
        .map(|(k, v)| (k.trim_start_matches("fingerprint.").to_string(), v.to_string()))
        .collect()
}

fn decode(path: &Path) -> Option<DynamicImage> {
    crate::media::decode(&std::fs::read(path).ok()?).ok()
}

fn uri(img: &image::RgbImage) -> String {
    use base64::Engine;
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(crate::png::encode_fast(img)))
}

/// One candidate's card.
fn card(id: usize, p: &Pending, root: &Path) -> Markup {
    let shown = |q: &Path| q.strip_prefix(root).unwrap_or(q).display().to_string();
    let actual = decode(&p.png);
    let expected = p.reference.as_deref().and_then(decode);
    let figures = match (&expected, &actual) {
        (Some(e), Some(a)) if e.width() == a.width() && e.height() == a.height() => {
            let mut m = measure(e, a);
            crate::snapshot::metrics::add_coarse(e, a, &mut m);
            format!(
                "psnr {:.1} dB · ssim {:.4} · worst block {:.2} levels · 8x8 cells {:.1} dB",
                m.psnr.unwrap_or(100.0),
                m.ssim.unwrap_or(1.0),
                m.block_diff.unwrap_or(0.0),
                m.coarse_psnr.unwrap_or(100.0)
            )
        }
        (Some(e), Some(a)) => format!("another size: {}x{} where the reference is {}x{}", a.width(), a.height(), e.width(), e.height()),
        (None, Some(_)) => "no reference yet: accepting makes this the first".into(),
        _ => "the candidate does not decode".into(),
    };
    let diff = match (&expected, &actual) {
        (Some(e), Some(a)) if e.width() == a.width() && e.height() == a.height() => Some(uri(&diff_image(e, a))),
        _ => None,
    };
    let snap_new = p.png.with_file_name(p.png.file_name().map(|n| n.to_string_lossy().replace(".png.new", ".snap.new")).unwrap_or_default());
    let theirs = p.reference.as_ref().map(|r| facts(&r.with_extension("snap"))).unwrap_or_default();
    let ours = facts(&snap_new);
    let class = ours.iter().find(|(k, _)| k == "class").map(|(_, v)| v.clone()).unwrap_or_else(|| "unknown".into());
    let mut keys: Vec<&String> = theirs.iter().chain(&ours).map(|(k, _)| k).filter(|k| *k != "class").collect();
    keys.sort();
    keys.dedup();
    let value = |list: &[(String, String)], k: &str| list.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()).unwrap_or_default();
    html! {
        section.card data-id=(id) data-file=(shown(&p.png)) tabindex="0" {
            h2 { (shown(&p.png).trim_end_matches(".new")) }
            p.class { "becomes a reference of class " b { (class) } }
            @if let Some(r) = &p.reference { p.muted { "beside " (shown(r)) } }
            p.figures { (figures) }
            div.images {
                figure { @if let Some(e) = &expected { img src=(uri(&e.to_rgb8())) alt="expected"; } figcaption { "expected" } }
                figure { @if let Some(a) = &actual { img src=(uri(&a.to_rgb8())) alt="actual"; } figcaption { "actual" } }
                @if let Some(d) = &diff { figure { img src=(d) alt="diff"; figcaption { "diff" } } }
            }
            table.facts {
                tr { th { } th { "reference" } th { "candidate" } }
                @for k in &keys {
                    tr { td { (k) } td { (value(&theirs, k)) } td { (value(&ours, k)) } }
                }
            }
            div.actions {
                button.accept type="button" data-act="accept" { "Accept (a)" }
                button.reject type="button" data-act="reject" { "Reject (r)" }
            }
        }
    }
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1rem 2rem;background:#fafafa}\
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}\
.card.current{outline:3px solid #4a7dff}.muted{color:#666}.figures{font-family:monospace}\
.images{display:flex;gap:1rem;flex-wrap:wrap}.images img{max-width:360px;image-rendering:pixelated;border:1px solid #ccc}\
figure{margin:0}table.facts td,table.facts th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}\
button{font-size:14px;padding:.4rem .9rem;margin-right:.5rem}.accept{background:#2e7d32;color:#fff}.reject{background:#c62828;color:#fff}";

const SCRIPT: &str = r#"
const token = document.querySelector('meta[name=review-token]').content;
const cards = () => [...document.querySelectorAll('.card')];
let cur = 0;
function show(i) {
  const c = cards();
  document.getElementById('done').hidden = c.length > 0;
  if (!c.length) return;
  cur = Math.max(0, Math.min(i, c.length - 1));
  c.forEach((e, k) => e.classList.toggle('current', k === cur));
  c[cur].focus({preventScroll: true});
  c[cur].scrollIntoView({block: 'nearest'});
}
async function act(card, what) {
  const r = await fetch('/' + what + '/' + card.dataset.id, {method: 'POST', headers: {'x-review-token': token}});
  const i = cards().indexOf(card);
  if (r.ok) { card.remove(); document.getElementById('left').textContent = cards().length; show(i); }
  else { card.querySelector('.figures').textContent = what + ' failed: ' + await r.text(); }
}
document.addEventListener('click', e => {
  const card = e.target.closest('.card');
  if (card) show(cards().indexOf(card));
  const b = e.target.closest('button[data-act]');
  if (b) act(card, b.dataset.act);
});
document.addEventListener('keydown', e => {
  const c = cards()[cur];
  if (e.key === 'j') show(cur + 1);
  else if (e.key === 'k') show(cur - 1);
  else if (c && e.key === 'a') act(c, 'accept');
  else if (c && e.key === 'r') act(c, 'reject');
});
show(0);
"#;

fn page(review: &Review) -> String {
    let items = pending(&review.root);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="review-token" content=(review.token);
                title { "endpoint-harness review" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Pending references: " span #left { (items.len()) } }
                p.muted { "Accept (a) writes the candidate as its class's reference; reject (r) deletes it; j and k move between them." }
                p #done hidden[!items.is_empty()] { "Nothing pending." }
                @for (id, p) in items.iter().enumerate() { (card(id, p, &review.root)) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    markup.into_string()
}

async fn index(State(r): State<Arc<Review>>) -> Html<String> {
    let r2 = r.clone();
    let page = tokio::task::spawn_blocking(move || page(&r2)).await.unwrap_or_default();
    Html(page)
}

async fn resolve(State(r): State<Arc<Review>>, headers: HeaderMap, UrlPath((what, id)): UrlPath<(String, usize)>) -> Response {
    if headers.get("x-review-token").and_then(|v| v.to_str().ok()) != Some(r.token.as_str()) {
        return (StatusCode::FORBIDDEN, "a request from outside the review page").into_response();
    }
    let accept = match what.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return (StatusCode::NOT_FOUND, "accept or reject").into_response(),
    };
    let root = r.root.clone();
    let done = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<PathBuf>> {
        let items = pending(&root);
        let Some(item) = items.get(id) else {
            return Ok(Vec::new());
        };
        let slot = item.png.to_string_lossy().trim_end_matches("png.new").to_string();
        crate::snapshot::resolve_pending(&root, Some(&slot), accept)
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    match done {
        Ok(files) if !files.is_empty() => {
            // Said where the command was started; a closed terminal is no reason to fail the request.
            let mut out = std::io::stdout().lock();
            for f in &files {
                let _ = writeln!(out, "{} {}", if accept { "accepted" } else { "rejected" }, f.display());
            }
            (StatusCode::OK, "done").into_response()
        }
        Ok(_) => (StatusCode::CONFLICT, format!("no candidate {id} (settled already?)")).into_response(),
        Err(e) => (StatusCode::CONFLICT, e.to_string()).into_response(),
    }
}

/// Serves the review page for `root` on 127.0.0.1:`port` (0: any free port);
/// `ready` receives the address once it listens. Runs until the process is stopped.
pub async fn serve(root: PathBuf, port: u16, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let review = Arc::new(Review { root, token: uuid::Uuid::new_v4().simple().to_string() });
    let app = axum::Router::new()
        .route("/", axum::routing::get(index))
        .route("/{what}/{id}", axum::routing::post(resolve))
        .with_state(review);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, app).await
}
