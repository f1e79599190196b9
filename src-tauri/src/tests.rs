//! Headless command tests: the real command layer and the real capability/ACL (the app's own
//! `tauri.conf.json` and capabilities) on Tauri's mock runtime, with the engine underneath in
//! Training mode (the simulator over real HTTP on 127.0.0.1).
// The mock-runtime tests run the desk in Training mode.
#![cfg(feature = "training")]

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

/// A window of the app other than `main`, built the way the mock runtime builds any window.
fn window_labelled(
    app: &tauri::App<tauri::test::MockRuntime>,
    label: &str,
) -> WebviewWindow<tauri::test::MockRuntime> {
    WebviewWindowBuilder::new(app, label, Default::default())
        .build()
        .unwrap()
}

fn invoke(
    window: &WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    invoke_from(window, "tauri://localhost", cmd, args)
}

/// As `invoke`, from a page at `origin` (a remote page in the redirect window).
fn invoke_from(
    window: &WebviewWindow<tauri::test::MockRuntime>,
    origin: &str,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: origin.parse().unwrap(),
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

/// Review finding N-9: a synchronous command runs on the main thread, and building a window there
/// deadlocks on Windows (Tauri's own warning on `WebviewWindowBuilder::build`). Every command
/// whose body opens a window (through `display::open` or `redirect::open*`) must be `async`.
#[test]
fn every_command_that_opens_a_window_is_async() {
    let source = include_str!("commands.rs");
    let mut opening = Vec::new();
    for item in source.split("#[tauri::command]").skip(1) {
        let body = item.trim_start().split("\n}\n").next().unwrap_or_default();
        let signature = body.lines().next().unwrap_or_default().trim();
        let opens = body.contains("display::open(") || body.contains("redirect::open");
        if opens {
            opening.push(signature.to_string());
            assert!(
                signature.starts_with("pub async fn"),
                "a command that opens a window must be async: {signature}"
            );
        }
    }
    assert!(
        opening.len() >= 2,
        "open_signing_window, open_customer_display: {opening:?}"
    );
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
    // Review N-14: the window never names a file for the desk to read.
    let link = json!({"input": {"method": "sign_link", "provider": "nbid-pki", "text": "I agree", "pdf": "/etc/passwd"}});
    let errors = invoke(&window, "validate_input", link.clone()).unwrap();
    assert_eq!(errors[0]["field"], "pdf", "{errors}");
    assert_eq!(
        invoke(&window, "start_flow", link).unwrap_err()["field"],
        "pdf"
    );
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

#[test]
fn the_customer_display_can_call_no_command_and_cannot_even_listen() {
    let (desk, _main, _dir) = app();
    let display = window_labelled(&desk, crate::display::LABEL);
    for cmd in COMMANDS {
        let refused = invoke(&display, cmd, json!({}));
        let text = refused
            .as_ref()
            .map_err(ToString::to_string)
            .expect_err(&format!("{cmd} must be refused to the customer display"));
        assert!(text.contains("not allowed"), "{cmd}: {text}");
    }
    // Listening is refused too: the staff events (`flow://event` carries the full identity
    // number on success) cannot be subscribed to from the display's page.
    for event in ["flow://event", "display://status"] {
        let refused = invoke(
            &display,
            "plugin:event|listen",
            json!({"event": event, "target": {"kind": "Any"}, "handler": 7}),
        );
        let text = refused.map(|v| v.to_string()).unwrap_err().to_string();
        assert!(text.contains("not allowed"), "listen {event}: {text}");
    }
    // The main window may listen (proves the call above is well formed, not just rejected).
    let (_app2, main, _dir2) = app();
    invoke(
        &main,
        "plugin:event|listen",
        json!({"event": "flow://event", "target": {"kind": "Any"}, "handler": 7}),
    )
    .unwrap();
}

#[test]
fn the_customer_display_opens_follows_the_agents_choice_and_keeps_its_merchant_name() {
    let (app, window, dir) = app();
    let closed = invoke(&window, "customer_display_status", json!({})).unwrap();
    assert_eq!(closed["open"], false);
    let opened = invoke(&window, "open_customer_display", json!({})).unwrap();
    assert_eq!(opened["open"], true);
    assert!(app.get_webview_window(crate::display::LABEL).is_some());

    // A flow the display has never seen cannot be shown.
    let err = invoke(
        &window,
        "show_on_customer_display",
        json!({"flowId": "no-such-flow"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "not_found");

    // The merchant name is checked (naming the field), saved and reported.
    let err = invoke(
        &window,
        "set_display_merchant",
        json!({"merchant": "Acme\nTelecom"}),
    )
    .unwrap_err();
    assert_eq!(err["field"], "merchant");
    invoke(
        &window,
        "set_display_merchant",
        json!({"merchant": " Acme Telecom "}),
    )
    .unwrap();
    let status = invoke(&window, "customer_display_status", json!({})).unwrap();
    assert_eq!(status["merchant"], "Acme Telecom");
    let saved =
        std::fs::read_to_string(dir.path().join("config").join("customer-display.toml")).unwrap();
    assert!(saved.contains("Acme Telecom"), "{saved}");

    let closed = invoke(&window, "close_customer_display", json!({})).unwrap();
    assert_eq!(closed["open"], false);
}

#[test]
fn the_redirect_window_can_call_no_command_and_cannot_even_listen() {
    let (desk, _main, _dir) = app();
    let flow_id = id_desk_core::flow::FlowId::new();
    let sandboxed = window_labelled(&desk, &crate::redirect::label(&flow_id));
    // Whether the page claims the app's own origin or is the provider's remote page.
    for origin in [
        "tauri://localhost",
        "http://127.0.0.1:4000/redirect/s1",
        "https://acme.app.signicat.com/auth",
    ] {
        for cmd in COMMANDS {
            let refused = invoke_from(&sandboxed, origin, cmd, json!({}));
            let text = refused
                .as_ref()
                .map_err(ToString::to_string)
                .expect_err(&format!("{cmd} must be refused to the redirect window"));
            assert!(text.contains("not allowed"), "{origin} {cmd}: {text}");
        }
        for event in ["flow://event", "display://status"] {
            let refused = invoke_from(
                &sandboxed,
                origin,
                "plugin:event|listen",
                json!({"event": event, "target": {"kind": "Any"}, "handler": 7}),
            );
            let text = refused.map(|v| v.to_string()).unwrap_err().to_string();
            assert!(
                text.contains("not allowed"),
                "{origin} listen {event}: {text}"
            );
        }
    }
}

#[test]
fn training_offers_the_redirect_providers_and_checks_the_provider_field() {
    let (app, window, _dir) = app();
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert_eq!(
        info["profile"]["redirect_providers"],
        json!(["mitid", "ftn"])
    );
    let errors = invoke(
        &window,
        "validate_input",
        json!({"input": {"method": "redirect", "provider": "smartid"}}),
    )
    .unwrap();
    assert_eq!(errors[0]["field"], "provider");
    let started = invoke(
        &window,
        "start_flow",
        json!({"input": {"method": "redirect"}}),
    );
    assert_eq!(started.unwrap_err()["field"], "provider");
    let stats = app
        .state::<AppState>()
        .simulator
        .as_ref()
        .unwrap()
        .control()
        .stats();
    assert_eq!(stats.creates(), 0, "no session for invalid input");
}
