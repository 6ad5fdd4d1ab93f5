//! The client and poller against the mock's behaviours and faults: terminal
//! states, non-terminal ones, deadlines with cancel, transient errors retried,
//! and submissions never repeated.

use std::time::Duration;

use crate::common::mockenv::{body, mock_with, rt, stats, KEY};
use endpoint_harness::http::ErrorKind;
use endpoint_harness::mock::MockServer;
use endpoint_harness::runpod::job::{drive, DriveError};
use endpoint_harness::runpod::wire::JobState;
use endpoint_harness::runpod::Client;
use endpoint_harness::runpod::Submit;

fn endpoint(server: &MockServer, id: &str) -> Client {
    Client::new(&server.endpoint_url(id), Some(KEY)).unwrap()
}

#[test]
fn transient_status_faults_are_retried_and_the_job_is_submitted_once() {
    let faults = [
        (
            "http503",
            "on: status\n    nth: [1, 2]\n    respond: http\n    status: 503",
        ),
        (
            "rate",
            "on: status\n    nth: [1]\n    respond: rate_limit\n    retry_after: 1",
        ),
        ("reset", "on: status\n    nth: [1, 3]\n    respond: reset"),
        (
            "malformed",
            "on: status\n    nth: [2]\n    respond: malformed_json",
        ),
        (
            "slow",
            "on: status\n    nth: [1]\n    respond: slow\n    delay: 300ms",
        ),
    ];
    let yamls: Vec<(String, String)> = faults
        .iter()
        .map(|(id, f)| {
            (
                id.to_string(),
                format!("queue: 1s\nexecution: 1s\nfaults:\n  - {f}\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = yamls
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let server = mock_with(&refs, 20.0, Duration::from_secs(30));
    rt().block_on(async {
        for (id, _) in faults {
            let started = std::time::Instant::now();
            let job = drive(
                &endpoint(&server, id),
                Submit::Run,
                body(16, 16),
                Duration::from_secs(20),
            )
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(job.status.status, JobState::Completed, "{id}");
            if id == "rate" {
                assert!(
                    started.elapsed() >= Duration::from_secs(1),
                    "Retry-After honoured"
                );
            }
        }
        let st = stats(&server).await;
        for (id, _) in faults {
            assert_eq!(st["jobs_created"][id], 1, "{id}: {st}");
            assert_eq!(st["requests"][format!("{id} run")], 1, "{id}: {st}");
        }
    });
}

#[test]
fn a_failed_submission_is_never_repeated() {
    let server = mock_with(
        &[
            (
                "e500",
                "faults:\n  - on: run\n    respond: http\n    status: 500\n",
            ),
            ("reset", "faults:\n  - on: run\n    respond: reset\n"),
            ("r429", "faults:\n  - on: run\n    respond: rate_limit\n"),
        ],
        100.0,
        Duration::from_secs(30),
    );
    rt().block_on(async {
        for id in ["e500", "reset", "r429"] {
            let err = drive(
                &endpoint(&server, id),
                Submit::Run,
                body(8, 8),
                Duration::from_secs(5),
            )
            .await
            .unwrap_err();
            assert!(matches!(err, DriveError::Submit(_)), "{id}: {err}");
        }
        let st = stats(&server).await;
        for id in ["e500", "reset", "r429"] {
            assert_eq!(st["requests"][format!("{id} run")], 1, "{id}: {st}");
        }
    });
}

#[test]
fn the_deadline_cancels_the_job_and_explains_a_stuck_queue() {
    let server = mock_with(
        &[
            ("slow", "queue: 0s\nexecution: 60s\n"),
            ("stuck", "stuck: true\n"),
        ],
        1.0,
        Duration::from_secs(30),
    );
    rt().block_on(async {
        let err = drive(
            &endpoint(&server, "slow"),
            Submit::Run,
            body(8, 8),
            Duration::from_millis(400),
        )
        .await
        .unwrap_err();
        let DriveError::Deadline {
            job,
            last_state,
            cancelled,
            ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(last_state, "IN_PROGRESS");
        assert!(matches!(cancelled, Some(Ok(()))), "{cancelled:?}");
        let status = endpoint(&server, "slow").status(job).await.unwrap();
        assert_eq!(
            status.status,
            JobState::Cancelled,
            "the abandoned job was cancelled on the endpoint"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(
                "was still IN_PROGRESS when the 400ms deadline passed; the job was cancelled"
            ),
            "{msg}"
        );

        let err = drive(
            &endpoint(&server, "stuck"),
            Submit::Run,
            body(8, 8),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("was still IN_QUEUE"), "{err}");
        assert!(err.contains("no worker is running or can start"), "{err}");
        assert!(err.contains("max workers"), "{err}");
    });
}

#[test]
fn terminal_states_stop_polling_at_once_and_running_does_not() {
    let server = mock_with(
        &[
            ("failed", "queue: 0s\nexecution: 0s\nstatus: FAILED\nerror: \"Workflow validation failed: x\"\n"),
            ("timedout", "queue: 0s\nexecution: 0s\nstatus: TIMED_OUT\n"),
            ("running", "queue: 0s\nexecution: 2s\nrunning_state: RUNNING\n"),
            ("nooutput", "queue: 0s\nexecution: 0s\noutput: none\n"),
        ],
        10.0,
        Duration::from_secs(30),
    );
    rt().block_on(async {
        let job = drive(
            &endpoint(&server, "failed"),
            Submit::Run,
            body(8, 8),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(job.status.status, JobState::Failed);
        assert_eq!(
            job.status.error.as_deref(),
            Some("Workflow validation failed: x")
        );
        assert!(job.status_calls <= 2, "{}", job.status_calls);
        let job = drive(
            &endpoint(&server, "timedout"),
            Submit::Run,
            body(8, 8),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(job.status.status, JobState::TimedOut);
        // RUNNING is only seen when polling /status (a long poll answers at the end).
        let plain = endpoint(&server, "running");
        plain.disable_long_poll();
        let job = drive(&plain, Submit::Run, body(8, 8), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(job.status.status, JobState::Completed);
        assert!(
            job.timeline.iter().any(|s| s.state == "RUNNING"),
            "{:?}",
            job.timeline
        );
        let ep = endpoint(&server, "nooutput");
        let job = drive(&ep, Submit::Run, body(8, 8), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(job.status.status, JobState::Completed);
        let err = endpoint_harness::runpod::output::decode(
            job.status.output.clone(),
            &endpoint_harness::targets::Runpod::new(ep.clone(), "test"),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("COMPLETED but has no `output`") && err.contains("20 MB"),
            "{err}"
        );
    });
}

#[test]
fn runsync_that_is_not_final_is_followed_by_polling() {
    let server = mock_with(
        &[("ep", "queue: 0s\nexecution: 1500ms\n")],
        1.0,
        Duration::from_secs(30),
    );
    rt().block_on(async {
        let job = drive(
            &endpoint(&server, "ep"),
            Submit::RunSync(Duration::from_secs(1)),
            body(8, 8),
            Duration::from_secs(1),
        )
        .await;
        // A 1 s deadline ends before the 1.5 s job: the job is cancelled, not resubmitted.
        assert!(matches!(job, Err(DriveError::Deadline { .. })), "{job:?}");
        let job = drive(
            &endpoint(&server, "ep"),
            Submit::RunSync(Duration::from_secs(10)),
            body(8, 8),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(job.status.status, JobState::Completed);
        assert!(job.status.id.starts_with("sync-"));
        let st = stats(&server).await;
        assert_eq!(st["requests"]["ep runsync"], 2);
    });
}

#[test]
fn endpoint_errors_name_the_request_and_job() {
    let server = mock_with(&[("ep", "{}")], 100.0, Duration::from_secs(30));
    rt().block_on(async {
        let err = endpoint(&server, "ep").status("abc-123").await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::NotFound(_)));
        assert!(err.to_string().starts_with("GET /status (job abc-123): 404 Not Found"), "{err}");
        let bad = Client::new(&server.endpoint_url("ep"), Some("wrong-key-123")).unwrap();
        let err = bad.health().await.unwrap_err().to_string();
        assert_eq!(err, "GET /health: 401 Unauthorized: the endpoint refused the API key (check RUNPOD_API_KEY)");
    });
}

#[test]
fn long_polls_fall_back_to_status_where_the_route_is_missing() {
    let server = mock_with(
        &[("nolong", "queue: 0s\nexecution: 2s\nfaults:\n  - on: status-sync\n    respond: http\n    status: 404\n"), ("long", "queue: 0s\nexecution: 2s\n"), ("html500", "queue: 0s\nexecution: 1s\nfaults:\n  - on: status-sync\n    respond: http\n    status: 500\n    body: \"<html>no route</html>\"\n")],
        1.0,
        Duration::from_secs(30),
    );
    rt().block_on(async {
        let ep = endpoint(&server, "nolong");
        let job = drive(&ep, Submit::Run, body(8, 8), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(job.status.status, JobState::Completed);
        assert!(!ep.long_poll(), "long polling was switched off");
        let job = drive(
            &endpoint(&server, "long"),
            Submit::Run,
            body(8, 8),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(job.status.status, JobState::Completed);
        assert_eq!(job.status_calls, 1, "one long poll covers a 2 s job");
        let st = stats(&server).await;
        assert_eq!(st["requests"]["nolong status-sync"], 1, "{st}");
        assert!(
            st["requests"]["nolong status"].as_u64().unwrap() >= 3,
            "{st}"
        );
        assert_eq!(st["requests"]["long status-sync"], 1, "{st}");
        // A server answering 500 on the unknown route: /status works, so polling switches to it.
        let ep = endpoint(&server, "html500");
        let job = drive(&ep, Submit::Run, body(8, 8), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(job.status.status, JobState::Completed);
        assert!(!ep.long_poll());
    });
}

#[test]
fn a_legacy_message_holding_a_url_is_downloaded() {
    let server = mock_with(
        &[("s3", "queue: 0s\nexecution: 0s\noutput: s3_url\n")],
        100.0,
        Duration::from_secs(30),
    );
    rt().block_on(async {
        let ep = endpoint(&server, "s3");
        let job = drive(&ep, Submit::Run, body(40, 24), Duration::from_secs(10))
            .await
            .unwrap();
        let url = job.status.output.as_ref().unwrap()["images"][0]["data"]
            .as_str()
            .unwrap()
            .to_string();
        let legacy = serde_json::json!({"message": url, "status": "success"});
        let out = endpoint_harness::runpod::output::decode(
            Some(legacy),
            &endpoint_harness::targets::Runpod::new(ep.clone(), "test"),
        )
        .await
        .unwrap();
        assert_eq!(
            out.shape,
            endpoint_harness::runpod::output::Shape::LegacyMessage
        );
        let img = image::load_from_memory(out.images[0].bytes.as_ref().unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (40, 24));
    });
}

#[test]
fn a_job_abandoned_after_persistent_status_errors_is_cancelled() {
    let server = mock_with(&[("down", "queue: 0s\nexecution: 60s\nfaults:\n  - on: status\n    respond: http\n    status: 503\n")], 1.0, Duration::from_secs(30));
    rt().block_on(async {
        let err = drive(
            &endpoint(&server, "down"),
            Submit::Run,
            body(8, 8),
            Duration::from_millis(1500),
        )
        .await
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, DriveError::Status { .. } | DriveError::Deadline { .. }),
            "{msg}"
        );
        assert!(msg.contains("the job was cancelled"), "{msg}");
        let st = stats(&server).await;
        assert_eq!(st["requests"]["down cancel"], 1, "{st}");
        assert_eq!(st["requests"]["down run"], 1, "never resubmitted: {st}");
    });
}
