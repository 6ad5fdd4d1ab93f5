//! `junit.xml` via quick-junit: check failures are `<failure>`, endpoint and
//! harness errors (and timeouts) are `<error>`, ignored scenarios `<skipped>`;
//! job id, worker id and timings are test-case properties.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::model::{RunReport, Verdict};

pub(super) fn render(report: &RunReport) -> String {
    let mut suite = TestSuite::new("scenarios");
    suite.add_property(Property::new("target", report.target.as_str()));
    let mut total = Duration::ZERO;
    for s in &report.scenarios {
        let mut status = match s.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Ignored => TestCaseStatus::skipped(),
            Verdict::Failed | Verdict::OverBudget => {
                TestCaseStatus::non_success(NonSuccessKind::Failure)
            }
            Verdict::Error | Verdict::TimedOut => {
                TestCaseStatus::non_success(NonSuccessKind::Error)
            }
        };
        if let Some(msg) = &s.message {
            let first = msg
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            status.set_message(first);
            status.set_description(msg.as_str());
            status.set_type(s.verdict.as_str());
        }
        let mut case = TestCase::new(s.name.as_str(), status);
        case.set_classname(
            format!(
                "scenarios.{}",
                s.name
                    .rsplit_once('/')
                    .map_or("", |(dir, _)| dir)
                    .replace('/', ".")
            )
            .trim_end_matches('.'),
        );
        let time = Duration::from_millis(s.duration_ms);
        total += time;
        case.set_time(time);
        case.add_property(Property::new("file", s.file.as_str()));
        case.add_property(Property::new("target", report.target.as_str()));
        if let Some(l) = &s.load {
            case.add_property(Property::new("load_jobs", l.submitted.to_string()));
            case.add_property(Property::new("load_throughput_per_min", format!("{:.2}", l.throughput_per_min)));
            case.add_property(Property::new("load_error_rate", format!("{:.4}", l.error_rate())));
            case.add_property(Property::new("load_cold_starts", l.cold_starts.len().to_string()));
            if let Some(t) = l.total {
                case.add_property(Property::new("load_total_p95_ms", t.p95_ms.to_string()));
                case.add_property(Property::new("load_total_p99_ms", t.p99_ms.to_string()));
            }
        }
        for (i, r) in s.runs.iter().enumerate() {
            let suffix = if s.runs.len() > 1 {
                format!(".{i}")
            } else {
                String::new()
            };
            let mut prop = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    case.add_property(Property::new(format!("{k}{suffix}"), v));
                }
            };
            prop("job_id", r.job_id.clone());
            prop("worker_id", r.worker_id.clone());
            prop("delay_time_ms", r.delay_ms.map(|v| v.to_string()));
            prop("execution_time_ms", r.execution_ms.map(|v| v.to_string()));
            prop("total_ms", Some(r.total_ms.to_string()));
            prop("cost", r.cost.map(|c| format!("{c:.6}")));
            for v in &r.videos {
                prop(&format!("video_{}", v.info.index), Some(v.info.describe()));
            }
        }
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut junit = Report::new("endpoint-harness");
    junit.add_test_suite(suite);
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- junit serialisation failed: {e} -->"))
}
