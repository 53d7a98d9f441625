//! The files in deploy/ agree with each other and with the binary (deploy/test.sh runs them;
//! these checks need nothing installed):
//!
//! - the ports nginx lists as its upstream are the `dropfeed@PORT` instances the template
//!   unit tells the operator to enable, and the template listens on its instance name;
//! - the template unit is the single unit with the port as its instance name: no setting
//!   added to one is forgotten in the other;
//! - both units are `Type=notify` (dropfeed says READY=1) and reload with SIGHUP;
//! - the Containerfile's `HEALTHCHECK` runs `dropfeed healthcheck`, which exists, and the
//!   address it checks is the one `serve` listens on (both read `DROPFEED_LISTEN`).

use std::collections::BTreeSet;
use std::path::Path;

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Ports of the `server 127.0.0.1:PORT` lines in nginx's `upstream dropfeed { }`.
fn upstream_ports(nginx: &str) -> BTreeSet<u16> {
    let start = nginx
        .find("upstream dropfeed {")
        .expect("an upstream block");
    let block = &nginx[start..start + nginx[start..].find('}').expect("its end")];
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("server 127.0.0.1:"))
        .map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
        })
        .map(|port| port.parse().expect("a port"))
        .collect()
}

/// Ports of the instances in the template's `systemctl enable --now dropfeed@...` line.
fn enabled_instances(unit: &str) -> BTreeSet<u16> {
    let line = unit
        .lines()
        .find(|l| l.contains("enable --now dropfeed@"))
        .expect("the template says which instances to enable");
    line.split_whitespace()
        .filter_map(|w| w.strip_prefix("dropfeed@"))
        .map(|port| port.parse().expect("a port as instance name"))
        .collect()
}

/// The unit's settings: lines that are not comments or blank.
fn settings(unit: &str) -> Vec<String> {
    unit.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn nginx_upstream_is_the_template_instances() {
    let nginx = read("nginx.conf");
    let template = read("dropfeed@.service");
    let ports = upstream_ports(&nginx);
    assert!(ports.len() >= 2, "{ports:?}");
    assert_eq!(ports, enabled_instances(&template));
    for port in &ports {
        assert!(
            nginx.contains(&format!("dropfeed@{port}")),
            "nginx.conf does not name dropfeed@{port}"
        );
    }
    assert!(
        template.contains("--listen 127.0.0.1:%i"),
        "the template listens on its instance name"
    );
    assert!(
        template.contains("--admin-listen 127.0.0.1:1%i"),
        "the template's admin listeners never take an upstream port"
    );
}

#[test]
fn template_unit_is_the_single_unit_per_port() {
    let single: Vec<String> = settings(&read("dropfeed.service"))
        .into_iter()
        .filter(|l| !l.starts_with("Description="))
        .map(|l| {
            // The template's admin listener is on 1<port> (18081 for 8081), the single
            // unit's on the default 8081.
            l.replace("--listen 127.0.0.1:8080", "--listen 127.0.0.1:%i")
                .replace(
                    "--admin-listen 127.0.0.1:8081",
                    "--admin-listen 127.0.0.1:1%i",
                )
        })
        .collect();
    let template: Vec<String> = settings(&read("dropfeed@.service"))
        .into_iter()
        .filter(|l| !l.starts_with("Description="))
        .collect();
    assert_eq!(single, template);
    for setting in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID"] {
        assert!(single.iter().any(|l| l == setting), "no {setting}");
    }
}

#[test]
fn container_health_check_runs_the_binary_on_the_listen_address() {
    let containerfile = read("Containerfile");
    let check = containerfile
        .lines()
        .skip_while(|l| !l.starts_with("HEALTHCHECK"))
        .take(2)
        .collect::<String>();
    assert!(
        check.contains("\"/usr/local/bin/dropfeed\", \"healthcheck\""),
        "{check}"
    );
    assert!(containerfile.contains("DROPFEED_LISTEN=0.0.0.0:8080"));
    let entrypoint = containerfile
        .lines()
        .find(|l| l.starts_with("ENTRYPOINT"))
        .expect("an entrypoint");
    assert!(
        !entrypoint.contains("--listen"),
        "serve must take DROPFEED_LISTEN too: {entrypoint}"
    );
}
