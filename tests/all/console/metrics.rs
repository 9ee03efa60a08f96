//! `GET /metrics` read by Prometheus' own text parser (Python's prometheus_client), and the
//! same numbers from `flspost status --json` for a host without the server.

use super::{bad_morning, python_with, Client, Server};
use crate::common::World;

#[test]
fn metrics_parse_as_prometheus_text_and_match_flspost_status() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let text = Client::new(&s).get("/metrics").text();
    let py = python_with("prometheus_client");
    let script = "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families\n\
                  out = {}\nfor f in text_string_to_metric_families(sys.stdin.read()):\n    for s in f.samples:\n        \
                  key = s.name + json.dumps(dict(sorted(s.labels.items())), separators=(',', ':'))\n        out[key] = s.value\n\
                  print(json.dumps(out))\n";
    let mut child = std::process::Command::new(py)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "prometheus_client refused /metrics: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let get = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("no sample {k} in {m}"));

    let status = w.run(&["status", "--json", "--config", cfg.to_str().unwrap()]).ok().one();
    for c in status["messages"].as_array().unwrap() {
        let key = format!("flspost_messages{{\"kind\":\"{}\",\"status\":\"{}\"}}", c["kind"].as_str().unwrap(), c["status"].as_str().unwrap());
        assert_eq!(get(&key), c["count"].as_f64().unwrap(), "{key}");
    }
    // The bad morning's problems, by cause, an hour after the sending.
    assert_eq!(get("flspost_open_problems{\"cause\":\"xctl_refused/problem_med_modtagerID\"}"), 1.0);
    assert_eq!(get("flspost_open_problems{\"cause\":\"unanswered_xdis91\"}"), 2.0);
    assert_eq!(get("flspost_open_problems{\"cause\":\"input_refused/site\"}"), 1.0);
    assert_eq!(status["open_problems"]["unanswered_xdis91"], 2);
    assert_eq!(get("flspost_longest_unanswered_seconds{}"), 3600.0);
    assert_eq!(status["longest_unanswered_seconds"], 3600);
    assert_eq!(get("flspost_refused_inputs_total{}"), 1.0);
    assert_eq!(get("flspost_journal_schema_version{}"), 6.0);
    assert!(get("flspost_journal_bytes{}") > 0.0);
    for t in status["transports"].as_array().unwrap() {
        let label = format!("{{\"transport\":{}}}", t["transport"]);
        assert_eq!(get(&format!("flspost_transport_last_success_timestamp_seconds{label}")), t["last_success_unix"].as_f64().unwrap());
        assert_eq!(get(&format!("flspost_transport_consecutive_failures{label}")), 0.0);
    }
}
