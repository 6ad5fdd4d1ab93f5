//! Bounded mutation fuzzing (runs in CI in seconds): the scenario loader, the
//! output decoder and the image checks take thousands of mangled inputs derived
//! from real ones and must answer each with Ok or a clear error, never a panic.
//! Deeper, coverage-guided runs use the cargo-fuzz targets in `fuzz/` (see README).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use base64::Engine;
use endpoint_harness::scenario::parse;

/// xorshift64*: deterministic, so a failure reproduces from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b":",
    b"\n",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"&a ",
    b"*a",
    b"!!binary ",
    b"\t",
    b"expect:\n  ",
    b"workflow: ",
    b"~",
    b"1e999",
    b"-1",
    b"\"",
    b"'",
    b"images:\n  - ",
    b"count: {min: 9, max: 1}",
    b"timeout: 99999999999d",
    b"\xff\xfe",
    b"/(/",
    b"set:\n  \"..\": 1",
    b"data:image/png;base64,",
    b"null",
    b"0x",
    // Text in other scripts: a diagnostic after it on the same line must not
    // slice a character (CJK, emoji, ZWJ sequences, combining marks, RTL).
    "雪の中の赤い狐".as_bytes(),
    "🦊".as_bytes(),
    "👩\u{200d}👩\u{200d}👧".as_bytes(),
    "cafe\u{301}".as_bytes(),
    "שלום עולם".as_bytes(),
    "مرحبا".as_bytes(),
    "\u{feff}".as_bytes(),
    "widht: 提示词".as_bytes(),
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                out.drain(a..b);
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                let chunk = out[a..b].to_vec();
                let at = rng.below(out.len());
                out.splice(at..at, chunk);
            }
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(out.len() + 1);
                out.splice(at..at, t.iter().copied());
            }
            4 => out.truncate(rng.below(len + 1)),
            _ => {
                let at = rng.below(out.len() + 1);
                out.insert(at, rng.next() as u8);
            }
        }
    }
    out
}

fn seeds(dirs: &[&str]) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for d in dirs {
        for f in endpoint_harness::run::discover(Path::new(d)).unwrap() {
            out.push((f.clone(), std::fs::read(&f).unwrap()));
        }
    }
    out
}

#[test]
fn the_scenario_loader_never_panics() {
    let corpus = seeds(&["scenarios", "tests/fixtures/invalid", "tests/selftest"]);
    let mut rng = Rng(0x5EED_0001);
    let (mut ok, mut err) = (0, 0);
    for n in 0..3000 {
        let (path, seed) = &corpus[n % corpus.len()];
        let input = mutate(&mut rng, seed);
        let text = String::from_utf8_lossy(&input).into_owned();
        let root = Path::new("scenarios");
        // Rendering is part of the test: a caret under multi-byte text once panicked there.
        let result = catch_unwind(AssertUnwindSafe(|| {
            parse::load_str(&text, path, root).map_err(|d| {
                let shown = d.to_string();
                (d, shown)
            })
        }));
        match result {
            Ok(Ok(_)) => ok += 1,
            Ok(Err((d, shown))) => {
                assert!(
                    !d.0.is_empty() && d.0.iter().all(|x| x.line >= 1 && x.col >= 1),
                    "input {n}: {shown}"
                );
                err += 1;
            }
            Err(_) => panic!(
                "the loader panicked on input {n} (seed file {}):\n{text}",
                path.display()
            ),
        }
    }
    println!("FIGURE fuzz loader: 3000 inputs, {ok} loaded, {err} diagnosed, 0 panics");
}

fn tiny_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 9) as u8, (y * 5) as u8, 77]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[test]
fn the_output_decoder_and_image_checks_never_panic() {
    let png = tiny_png(24, 16);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let outputs = [
        serde_json::json!({"images": [{"filename": "a.png", "type": "base64", "data": b64}], "errors": ["w"]}),
        serde_json::json!({"images": [{"filename": "a.png", "type": "base64", "data": format!("data:image/png;base64,{b64}")}]}),
        serde_json::json!({"message": b64, "status": "success"}),
        serde_json::json!({"status": "success_no_images", "images": []}),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Nothing listens on port 9: a mutated URL fails fast on loopback.
    let ep = endpoint_harness::targets::Runpod::new(
        endpoint_harness::runpod::Client::new("http://127.0.0.1:9/v2/x", None).unwrap(),
        "fuzz",
    );
    let mut rng = Rng(0x5EED_0002);
    let mut decoded_images = 0;
    for n in 0..2000 {
        let seed = serde_json::to_vec(&outputs[n % outputs.len()]).unwrap();
        let input = mutate(&mut rng, &seed);
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&input) else {
            continue;
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                if let Ok(out) =
                    endpoint_harness::runpod::output::decode(Some(value.clone()), &ep).await
                {
                    for (i, r) in out.images.iter().enumerate() {
                        let _ = endpoint_harness::media::inspect(i, r);
                        let _ = endpoint_harness::media::inspect_keeping(i, r, false);
                        decoded_images += 1;
                    }
                }
            })
        }));
        assert!(
            result.is_ok(),
            "the output decoder panicked on input {n}: {}",
            String::from_utf8_lossy(&input)
        );
    }
    let mut agreed = 0;
    for n in 0..2000 {
        let bytes = mutate(&mut rng, &png);
        let r = endpoint_harness::media::Returned {
            filename: "f.png".into(),
            transport: endpoint_harness::media::Transport::Base64,
            declared_mime: None,
            bytes: Ok(bytes),
        };
        let full = catch_unwind(|| endpoint_harness::media::inspect(0, &r));
        let streamed = catch_unwind(|| endpoint_harness::media::inspect_keeping(0, &r, false));
        let (Ok(full), Ok(streamed)) = (full, streamed) else {
            panic!("image checks panicked on PNG mutation {n}");
        };
        // Sampling while decoding sees what the full decode sees.
        assert_eq!(
            full.info.problem.is_none(),
            streamed.info.problem.is_none(),
            "mutation {n}: full {:?}, streamed {:?}",
            full.info.problem,
            streamed.info.problem
        );
        if full.info.problem.is_none() {
            assert_eq!(
                (
                    full.info.width,
                    full.info.height,
                    &full.info.color,
                    full.info.stddev
                ),
                (
                    streamed.info.width,
                    streamed.info.height,
                    &streamed.info.color,
                    streamed.info.stddev
                ),
                "mutation {n}"
            );
            assert_eq!(full.thumb, streamed.thumb, "mutation {n}");
            agreed += 1;
        }
    }
    println!("FIGURE fuzz output: 2000 JSON mutations ({decoded_images} images inspected) and 2000 PNG mutations, 0 panics; {agreed} decodable mutations sampled identically while decoding and after");
}

/// Figures no endpoint should send, as a broken or hostile one does: every
/// report writer (JSON, JUnit, Markdown, HTML, history, trend, compare,
/// merge) takes runs built from them without a panic, for many mixes.
#[test]
fn every_report_writer_takes_extreme_figures() {
    use endpoint_harness::model::*;
    const U: [u64; 7] = [0, 1, 999, 1 << 53, u64::MAX / 2, u64::MAX - 1, u64::MAX];
    const F: [f64; 7] = [
        0.0,
        -0.0,
        1e308,
        -1e308,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut rng = Rng(0x5eed_1234);
    let u = |rng: &mut Rng| U[rng.below(U.len())];
    let f = |rng: &mut Rng| F[rng.below(F.len())];
    for round in 0..24 {
        let mut scenarios = Vec::new();
        for s in 0..3 {
            let run = RunRecord {
                job_id: Some(format!("job-{round}-{s}")),
                worker_id: Some("w".repeat(rng.below(300))),
                state: Some("COMPLETED".into()),
                delay_ms: Some(u(&mut rng)),
                execution_ms: Some(u(&mut rng)),
                total_ms: u(&mut rng),
                status_calls: u32::MAX,
                cost: Some(f(&mut rng)),
                timeline: vec![
                    Seen {
                        at_ms: u(&mut rng),
                        state: "IN_PROGRESS".into(),
                    },
                    Seen {
                        at_ms: u(&mut rng),
                        state: "COMPLETED".into(),
                    },
                ],
                nodes: vec![NodeTiming {
                    node: "3".into(),
                    class_type: "KSampler".into(),
                    title: None,
                    start_ms: u(&mut rng),
                    ms: u(&mut rng),
                    cached: false,
                }],
                ..RunRecord::default()
            };
            let verdict = [
                Verdict::Passed,
                Verdict::Failed,
                Verdict::OverBudget,
                Verdict::Error,
            ][rng.below(4)];
            let head = ScenarioHead {
                name: format!("s/{s}"),
                ..ScenarioHead::default()
            };
            let mut rep = ScenarioReport::new(head, verdict, Some("x".repeat(rng.below(10_000))));
            rep.duration_ms = u(&mut rng);
            rep.cost = Some(f(&mut rng));
            let spread = |rng: &mut Rng| Spread {
                p50_ms: U[rng.below(7)],
                p95_ms: U[rng.below(7)],
                max_ms: U[rng.below(7)],
            };
            rep.budget = Some(BudgetReport {
                misses: Vec::new(),
                not_applicable: Vec::new(),
                queue: Some(spread(&mut rng)),
                execution: Some(spread(&mut rng)),
                total: Some(spread(&mut rng)),
            });
            rep.snapshots = vec![SnapshotRecord {
                index: usize::MAX,
                reference: "r.png".into(),
                outcome: "review".into(),
                class: None,
                across: None,
                variant: None,
                reasons: vec![],
                metrics: Some(Metrics {
                    distance: u32::MAX,
                    similarity: f(&mut rng),
                    psnr: Some(f(&mut rng)),
                    ssim: Some(f(&mut rng)),
                    block_diff: Some(f(&mut rng)),
                    coarse_psnr: Some(f(&mut rng)),
                    ..Metrics::default()
                }),
                expected: None,
                actual: None,
                diff: None,
                thumbnails: vec![],
            }];
            rep.runs = vec![run.clone(), run];
            scenarios.push(rep);
        }
        let info = RunInfo {
            run_id: format!("run-{round}"),
            started_at: format!("2026-12-07T00:{:02}:00Z", round % 60),
            target: "embedded mock".into(),
            target_kind: TargetKind::Mock,
            git_commit: None,
        };
        let report = RunReport::new(&info, scenarios);
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let every = catch_unwind(AssertUnwindSafe(|| {
            use endpoint_harness::results::{compare, history, report as writers, trend};
            for dir in [&a, &b] {
                history::append(dir, &report, &report.scenarios).unwrap();
                history::append(dir, &report, &report.scenarios).unwrap();
                writers::write_all(dir, &report).unwrap();
            }
            let (lines, _) = history::read(&a.join("history.jsonl")).unwrap();
            let _ = trend::render(&trend::analyse(&lines, &trend::Options::default()));
            let cmp = compare::compare(&a, &b, &Default::default(), Some(&tmp.path().join("out")))
                .unwrap();
            compare::write(&tmp.path().join("out"), &cmp).unwrap();
            endpoint_harness::results::shards::merge(
                &tmp.path().join("merged"),
                &[a.clone(), b.clone()],
            )
            .unwrap();
        }));
        assert!(
            every.is_ok(),
            "a report writer panicked on round {round} (seed 0x5eed_1234)"
        );
        assert!(a.join("index.html").is_file() && a.join("report.json").is_file());
    }
}
