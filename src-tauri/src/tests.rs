//! Headless command tests: the real command layer and the real capability/ACL (the app's own
//! `tauri.conf.json` and capabilities) on Tauri's mock runtime, with the engine underneath in
//! Training mode (the simulator over real HTTP on 127.0.0.1).

use std::collections::BTreeSet;

use id_desk_core::desk::DeskPaths;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

use crate::command_list::COMMANDS;
use crate::AppState;

fn app() -> (
    tauri::App<tauri::test::MockRuntime>,
    WebviewWindow<tauri::test::MockRuntime>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let state =
        tauri::async_runtime::block_on(AppState::open(DeskPaths::under(dir.path()))).unwrap();
    let app = crate::setup(mock_builder())
        .manage(state)
        .build(tauri::generate_context!())
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, window, dir)
}

fn invoke(
    window: &WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn the_permission_set_names_exactly_the_registered_commands() {
    let toml_text = include_str!("../permissions/app-commands.toml");
    let granted: BTreeSet<String> = toml_text
        .split('"')
        .filter(|s| s.starts_with("allow-") && *s != "allow-app-commands")
        .map(|s| s.trim_start_matches("allow-").replace('-', "_"))
        .collect();
    let registered: BTreeSet<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
    assert_eq!(granted, registered);
}

#[test]
fn every_command_is_allowed_for_the_main_window_and_nothing_else_is() {
    let (_app, window, _dir) = app();
    // A command that is not ours (a plugin the app does not grant) is refused by the ACL.
    let refused = invoke(
        &window,
        "plugin:shell|open",
        json!({"path": "https://example.org"}),
    );
    assert!(
        refused.is_err(),
        "an ungranted plugin command must be refused: {refused:?}"
    );
    // Each of ours passes the ACL: any failure is the command's own answer, never "not allowed".
    for cmd in COMMANDS {
        if let Err(e) = invoke(&window, cmd, json!({})) {
            let text = e.to_string();
            assert!(
                !text.contains("not allowed"),
                "{cmd} refused by the ACL: {text}"
            );
        }
    }
}

#[test]
fn training_desk_reports_itself_and_validates_before_any_request() {
    let (app, window, _dir) = app();
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert_eq!(info["training"], true);
    assert_eq!(info["profile"]["name"], "training");

    // The documentation's example number fails the check digits: a field error, nothing sent.
    let errors = invoke(
        &window,
        "validate_input",
        json!({"input": {"method": "nbid_safe_conversation", "nin": "17029012345"}}),
    )
    .unwrap();
    assert_eq!(errors[0]["code"], "invalid_input");
    assert_eq!(errors[0]["field"], "nin");
    let started = invoke(
        &window,
        "start_flow",
        json!({"input": {"method": "nbid_safe_conversation", "nin": "17029012345"}}),
    );
    assert_eq!(started.unwrap_err()["field"], "nin");
    let sim = app.state::<AppState>();
    let stats = sim.simulator.as_ref().unwrap().control().stats();
    assert_eq!(
        stats.creates(),
        0,
        "no session may be created for invalid input"
    );
}

#[test]
fn no_command_result_carries_a_training_secret() {
    let (app, window, _dir) = app();
    let secrets: Vec<String> = {
        let state = app.state::<AppState>();
        let cfg = state.simulator.as_ref().unwrap().config();
        vec![
            cfg.rest_client.client_secret.clone(),
            cfg.oidc_client.client_secret.clone(),
            cfg.sign_client.client_secret.clone(),
        ]
    };
    for (cmd, args) in [
        ("app_info", json!({})),
        ("list_profiles", json!({})),
        ("secret_status", json!({"profile": "training"})),
        ("running_flows", json!({})),
        ("sim_sessions", json!({})),
    ] {
        let out = match invoke(&window, cmd, args) {
            Ok(v) | Err(v) => v.to_string(),
        };
        for s in &secrets {
            assert!(!out.contains(s.as_str()), "{cmd} leaked a secret");
        }
    }
    // Training keeps its secrets in memory: storing one is refused, naming the field.
    let err = invoke(
        &window,
        "set_secret",
        json!({"profile": "training", "name": "rest-client-secret", "value": "x"}),
    )
    .unwrap_err();
    assert_eq!(err["field"], "profile");
}
