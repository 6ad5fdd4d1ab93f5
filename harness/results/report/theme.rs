//! The look and behaviour shared by `index.html` and `compare.html` (a leaf):
//! the stylesheet, the script (filters, search, the snapshot viewer) and the
//! page shell. Everything is inline: each page stays one file that opens from
//! a CI artifact without a server or a network. The markup is written with
//! maud's `html!`, which escapes every value it is given (text from endpoints
//! and scenario files included) unless it is wrapped in `PreEscaped`.

use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The stylesheet.
pub(crate) const STYLE: &str = r#"
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--skip:#6e7781;--accent:#0969da}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);background:#fff}
header{padding:16px 24px;border-bottom:1px solid var(--line);background:var(--bg)}
header h1{font-size:18px;margin:0 0 4px}
main{padding:12px 24px 40px}
.meta{color:var(--muted);font-size:13px}
.meta b{color:var(--fg)}
.pills{display:flex;flex-wrap:wrap;gap:6px;margin:12px 0 0}
.pill{border:1px solid var(--line);background:#fff;border-radius:16px;padding:3px 12px;cursor:pointer;font:inherit}
.pill[aria-pressed=true]{border-color:var(--accent);box-shadow:0 0 0 1px var(--accent) inset}
.pill .n{font-weight:600;margin-left:4px}
.toolbar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:12px 0;position:sticky;top:0;background:#fff;padding:8px 0;z-index:2;border-bottom:1px solid var(--line)}
.toolbar input[type=search]{flex:1;min-width:220px;padding:6px 10px;border:1px solid var(--line);border-radius:6px;font:inherit}
.toolbar select,.toolbar button{padding:5px 10px;border:1px solid var(--line);border-radius:6px;background:#fff;font:inherit;cursor:pointer}
.passed{color:var(--pass)}.failed,.error,.timed_out,.regressed,.missing{color:var(--fail)}.over_budget{color:var(--warn)}.ignored,.not_compared,.same{color:var(--skip)}.improved,.new{color:var(--pass)}
.badge{display:inline-block;min-width:84px;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.02em}
details.scenario{border:1px solid var(--line);border-radius:6px;margin:6px 0;background:#fff}
details.scenario>summary{cursor:pointer;padding:8px 12px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap;list-style:none}
details.scenario>summary::-webkit-details-marker{display:none}
details.scenario>summary::before{content:"▸";color:var(--muted);width:10px}
details.scenario[open]>summary::before{content:"▾"}
details.scenario[open]>summary{border-bottom:1px solid var(--line);background:var(--bg)}
.name{font-weight:600}
.tag{font-size:11px;border:1px solid var(--line);border-radius:10px;padding:0 7px;color:var(--muted)}
.right{margin-left:auto;color:var(--muted);font-size:13px}
.body{padding:10px 14px}
.body h3{font-size:13px;margin:14px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
pre{white-space:pre-wrap;background:var(--bg);padding:8px;margin:4px 0;border-radius:4px;font-size:12.5px}
details.logs{margin:6px 0}details.logs>summary{cursor:pointer;font-size:13px}pre.log{max-height:360px;overflow:auto}pre.log .mark{color:var(--accent,#2563eb);font-weight:600}pre.log .src{color:#888}
table{border-collapse:collapse}
td,th{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
img{border:1px solid var(--line);margin:2px;max-width:100%}
.muted{color:var(--muted)}
.timeline{display:flex;height:14px;border-radius:3px;overflow:hidden;background:#eaeef2;margin:4px 0;position:relative}
.timeline span{display:block;height:100%}
.seg-queue{background:#afb8c1}.seg-run{background:var(--accent)}.seg-done{background:#4ac26b}
.tick{position:absolute;top:0;width:2px;height:100%;background:#1f2328;opacity:.55}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
table.nodes{font-size:12px}table.nodes td{border:0;padding:1px 6px}
.bar{display:inline-block;height:9px;background:#6e7781;vertical-align:middle}.bar.cached{background:#d0d7de}
.snap{border:1px solid var(--line);border-radius:6px;padding:8px;margin:8px 0;overflow:auto}
.snap .modes{margin-bottom:8px}
.snap .modes button{border:1px solid var(--line);background:#fff;padding:3px 10px;cursor:pointer;font:inherit}
.snap .modes button[aria-pressed=true]{background:var(--accent);color:#fff;border-color:var(--accent)}
.snap .view{display:none}
.snap[data-mode=side] .view.side{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.snap .view.side img{max-width:100%;height:auto}
.snap[data-mode=slider] .view.slider{display:block}
.snap[data-mode=diff] .view.diff{display:block}
.snap figure{margin:0}.snap figcaption{font-size:12px;color:var(--muted)}
.stack{position:relative;display:inline-block;line-height:0}
.stack img{margin:0;max-width:none}
.stack .over{position:absolute;left:0;top:0;clip-path:inset(0 calc(100% - var(--pos,50%)) 0 0)}
.stack input{position:absolute;left:0;bottom:-22px;width:100%}
.stack .line{position:absolute;top:0;bottom:0;left:var(--pos,50%);width:2px;background:#fff;box-shadow:0 0 2px #000;pointer-events:none}
figure.video{display:inline-block;margin:2px 6px 6px 0;vertical-align:top}
figure.video video,figure.video>img{max-width:320px;max-height:240px;display:block}
video[data-state=unplayable]{display:none}
.strip img{height:48px;margin:1px}
figcaption{font-size:12px;color:#555}
.charts{display:flex;gap:24px;flex-wrap:wrap;margin:8px 0 4px}
.chart{font-size:12px;color:var(--muted)}
.empty{padding:24px;color:var(--muted);text-align:center}
.side-by-side{display:grid;grid-template-columns:1fr 1fr;gap:12px}
"#;

/// The script: verdict pills, tag filter and search (kept in the URL's hash,
/// so a filtered view can be linked), expand/collapse, the snapshot viewer.
pub(crate) const SCRIPT: &str = r#"
(function(){
  var q=document.getElementById('q'), tag=document.getElementById('tag'), shown=document.getElementById('shown');
  var items=[].slice.call(document.querySelectorAll('[data-item]'));
  var pills=[].slice.call(document.querySelectorAll('.pill'));
  var state={v:'all'};
  function matches(el){
    var v=el.dataset.verdict, want=state.v;
    if(want==='problems'){ if(v==='passed'||v==='ignored'||v==='same'||v==='not_compared') return false; }
    else if(want==='review'){ if(el.dataset.review!=='1') return false; }
    else if(want!=='all' && v!==want) return false;
    if(tag && tag.value && (' '+el.dataset.tags+' ').indexOf(' '+tag.value+' ')<0) return false;
    var text=q?q.value.trim().toLowerCase():'';
    return !text || el.dataset.name.toLowerCase().indexOf(text)>=0;
  }
  function apply(){
    var n=0;
    items.forEach(function(el){ var ok=matches(el); el.hidden=!ok; if(ok) n++; });
    if(shown) shown.textContent=n;
    pills.forEach(function(p){ p.setAttribute('aria-pressed', String(p.dataset.verdict===state.v)); });
    var h=[];
    if(state.v!=='all') h.push('verdict='+encodeURIComponent(state.v));
    if(tag && tag.value) h.push('tag='+encodeURIComponent(tag.value));
    if(q && q.value) h.push('q='+encodeURIComponent(q.value));
    history.replaceState(null,'',h.length?'#'+h.join('&'):location.pathname+location.search);
    var none=document.getElementById('none'); if(none) none.hidden=n>0;
  }
  pills.forEach(function(p){ p.addEventListener('click',function(){ state.v=p.dataset.verdict; apply(); }); });
  if(q) q.addEventListener('input',apply);
  if(tag) tag.addEventListener('change',apply);
  var ex=document.getElementById('expand'), co=document.getElementById('collapse');
  if(ex) ex.addEventListener('click',function(){ items.forEach(function(d){ if(!d.hidden) d.open=true; }); });
  if(co) co.addEventListener('click',function(){ items.forEach(function(d){ d.open=false; }); });
  location.hash.replace(/^#/,'').split('&').forEach(function(kv){
    var i=kv.indexOf('='); if(i<0) return; var k=kv.slice(0,i), v=decodeURIComponent(kv.slice(i+1));
    if(k==='verdict') state.v=v; if(k==='tag'&&tag) tag.value=v; if(k==='q'&&q) q.value=v;
  });
  apply();
  [].forEach.call(document.querySelectorAll('.snap'),function(w){
    var buttons=[].slice.call(w.querySelectorAll('.modes button'));
    function mode(m){ w.dataset.mode=m; buttons.forEach(function(b){ b.setAttribute('aria-pressed', String(b.dataset.mode===m)); }); }
    buttons.forEach(function(b){ b.addEventListener('click',function(){ mode(b.dataset.mode); }); });
    var r=w.querySelector('input[type=range]');
    if(r) r.addEventListener('input',function(){ w.style.setProperty('--pos', r.value+'%'); });
    mode(w.dataset.mode||'side');
  });
})();
"#;

/// A whole page: the shared layout of `index.html` and `compare.html` (the
/// header with its title, meta line and verdict pills; the main part with the
/// toolbar and the cards; the stylesheet and script inline).
pub(crate) fn page(title: &str, header: Markup, main: Markup) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { (header) }
                main { (main) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string() + "\n"
}

/// The verdict filter buttons: `(key, label, count)`; the script filters the
/// cards whose `data-verdict` is the key (`all` and `problems` are its own).
pub(crate) fn pills(items: &[(&str, &str, usize)]) -> Markup {
    html! {
        div.pills {
            @for (key, label, n) in items {
                button type="button" class={ "pill " (key) } data-verdict=(key) {
                    (label) span.n { (n) }
                }
            }
        }
    }
}

/// The sticky toolbar: the name search, the tag filter when there are tags,
/// expand/collapse when asked, and how many cards are shown.
pub(crate) fn toolbar(placeholder: &str, tags: Option<&[&str]>, expand: bool) -> Markup {
    html! {
        div.toolbar {
            input type="search" #q placeholder=(placeholder) aria-label="search";
            @if let Some(tags) = tags {
                select #tag aria-label="tag" {
                    option value="" { "all tags" }
                    @for t in tags { option value=(t) { (t) } }
                }
            }
            @if expand {
                button type="button" #expand { "expand all" }
                button type="button" #collapse { "collapse all" }
            }
            span.muted { span #shown {} " shown" }
        }
    }
}

/// What a card's summary line says and the filters read.
pub(crate) struct CardHead<'a> {
    /// The verdict or change class (`failed`, `regressed`): colour and filter key.
    pub(crate) class: &'a str,
    /// The badge's word.
    pub(crate) badge: &'a str,
    pub(crate) name: &'a str,
    pub(crate) tags: &'a [String],
    /// Whether the "to review" pill shows it; `None` on pages without that pill.
    pub(crate) review: Option<bool>,
    /// Open on load (the cards that need a look).
    pub(crate) open: bool,
    /// The right-hand side of the summary line.
    pub(crate) right: Markup,
}

/// A collapsible card: the summary line, then `body`.
pub(crate) fn card(head: CardHead<'_>, body: Markup) -> Markup {
    html! {
        details.scenario data-item data-verdict=(head.class)
            data-review=[head.review.map(u8::from)] data-name=(head.name)
            data-tags=(head.tags.join(" ")) open[head.open] {
            summary {
                span class={ "badge " (head.class) } { (head.badge) }
                span.name { (head.name) }
                @for t in head.tags { span.tag { (t) } }
                span.right { (head.right) }
            }
            div.body { (body) }
        }
    }
}

/// The placeholder shown when the filters hide every card.
pub(crate) fn none_shown(text: &str) -> Markup {
    html! { p.empty #none hidden { (text) } }
}

/// The CSS class and data value of a verdict or change (`over_budget`).
pub(crate) fn class_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Two images of the same thing, at full size: side by side, a slider over
/// the two, or the diff. `labels` name them (`expected`/`actual`, `baseline`/`candidate`).
pub(crate) fn image_viewer(labels: [&str; 2], srcs: [&str; 2], diff: Option<&str>, caption: &str) -> Markup {
    let [l0, l1] = labels;
    let [s0, s1] = srcs;
    html! {
        div.snap data-mode="side" {
            div.modes {
                b { (caption) } " "
                button type="button" data-mode="side" { "side by side" }
                button type="button" data-mode="slider" { "slider" }
                @if diff.is_some() { button type="button" data-mode="diff" { "diff" } }
            }
            div.view.side {
                figure { img src=(s0) alt=(l0); figcaption { (l0) } }
                figure { img src=(s1) alt=(l1); figcaption { (l1) } }
            }
            div.view.slider {
                div.stack {
                    img src=(s1) alt=(l1);
                    img.over src=(s0) alt=(l0);
                    span.line {}
                    input type="range" min="0" max="100" value="50" aria-label={ (l0) " | " (l1) };
                }
                p.muted style="margin-top:28px" { "left of the line: " (l0) " · right: " (l1) }
            }
            @if let Some(d) = diff {
                div.view.diff { img src=(d) alt="diff"; }
            }
        }
    }
}
