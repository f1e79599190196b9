#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The bundle configuration `make package` builds from (issue 16), checked on every `make test`
//! without building a package: tauri-build already refuses a malformed file at compile time; this
//! holds what a malformed-but-valid file could still get wrong.

use serde_json::Value;
use std::path::Path;

fn config() -> Value {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json"))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_package_is_named_versioned_and_described() {
    let c = config();
    assert_eq!(c["productName"], "ID Desk");
    // The binary staff (and the desktop entry) start: /usr/bin/id-desk, not "/usr/bin/ID Desk".
    assert_eq!(c["mainBinaryName"], "id-desk");
    assert_eq!(
        c["version"],
        env!("CARGO_PKG_VERSION"),
        "one version for the app and its package"
    );
    let b = &c["bundle"];
    assert_eq!(b["active"], true);
    // Every format the platform can make: .deb/.rpm/AppImage on Linux, .msi/NSIS on Windows,
    // .app/.dmg on macOS.
    assert_eq!(b["targets"], "all");
    for key in [
        "publisher",
        "category",
        "shortDescription",
        "longDescription",
    ] {
        assert!(
            b[key].as_str().is_some_and(|s| !s.is_empty()),
            "bundle.{key}"
        );
    }
    let langs = b["windows"]["wix"]["language"].as_array().unwrap();
    for lang in ["en-US", "nb-NO", "sv-SE"] {
        assert!(
            langs.iter().any(|l| l == lang),
            "the installer speaks {lang}"
        );
    }
}

#[test]
fn every_icon_exists_and_pngs_have_alpha() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let icons = config()["bundle"]["icon"].as_array().unwrap().clone();
    assert!(icons.len() >= 5);
    for icon in icons {
        let path = dir.join(icon.as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if path.extension().is_some_and(|e| e == "png") {
            // PNG IHDR: colour type at byte 25; 6 = RGBA (Tauri refuses other PNG icons).
            assert_eq!(&bytes[1..4], b"PNG", "{}", path.display());
            assert_eq!(bytes[25], 6, "{} is not RGBA", path.display());
        }
    }
}

#[test]
fn the_file_names_no_path_of_a_build_machine() {
    // The CLI's path inside the .deb is given at build time (`make package`), so the committed
    // configuration holds no absolute or home path that would only exist on one machine.
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json"))
            .unwrap();
    for bad in ["\"/root", "\"/home", "\"/tmp", ".cache/"] {
        assert!(!text.contains(bad), "tauri.conf.json mentions {bad}");
    }
}

/// Screen-pop links (issue 22): the bundler writes `MimeType=x-scheme-handler/id-desk` into the
/// .desktop file from the deep-link plugin's configuration, and the identifier names the
/// single-instance lock (`IDENTIFIER` in src/lib.rs).
#[test]
fn the_id_desk_url_scheme_is_registered_and_the_identifier_is_the_one_the_app_uses() {
    let c = config();
    assert_eq!(
        c["plugins"]["deep-link"]["desktop"]["schemes"],
        serde_json::json!(["id-desk"])
    );
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let id = c["identifier"].as_str().unwrap();
    assert!(
        lib.contains(&format!("const IDENTIFIER: &str = \"{id}\";")),
        "src/lib.rs must use the identifier {id}"
    );
    // The scheme the engine reads is the one registered.
    assert_eq!(id_desk_core::desk::screen_pop::SCHEME, "id-desk");
}

/// The .deb and the .rpm (issue 24) carry the same files: the IT department's policy example, each
/// source present; the CLI is added by `make package`, which knows the build directory.
#[test]
fn the_deb_and_the_rpm_carry_the_policy_example_and_open_links() {
    let c = config();
    let linux = &c["bundle"]["linux"];
    for format in ["deb", "rpm"] {
        let files = linux[format]["files"]
            .as_object()
            .unwrap_or_else(|| panic!("bundle.linux.{format}.files"));
        let source = files
            .get("/usr/share/doc/id-desk/policy.toml.example")
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("the {format} lacks the policy example"));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(source);
        assert!(path.is_file(), "{}", path.display());
    }
    assert_eq!(linux["rpm"]["release"], "1");
    // The desktop entry passes the id-desk:// link it was opened with (Tauri's own template
    // registers the scheme but starts the app without the link).
    for format in ["deb", "rpm"] {
        let template = linux[format]["desktopTemplate"]
            .as_str()
            .unwrap_or_else(|| panic!("bundle.linux.{format}.desktopTemplate"));
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(template)).unwrap();
        assert!(text.contains("Exec={{exec}} %u"), "{format}: {text}");
        assert!(text.contains("MimeType={{mime_type}}"), "{format}: {text}");
    }
    let makefile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Makefile")).unwrap();
    for format in ["deb", "rpm"] {
        assert!(
            makefile.contains(&format!(
                "\"{format}\":{{\"files\":{{\"/usr/bin/id-desk-cli\""
            )),
            "make package adds id-desk-cli to the {format}"
        );
    }
}

/// The desk's Windows manifest keeps what Tauri's own has (Common Controls 6) and declares long
/// paths (issue 30); build.rs embeds it.
#[test]
fn the_windows_manifest_keeps_common_controls_and_declares_long_paths() {
    let manifest = include_str!("../windows-app-manifest.xml");
    assert!(manifest.contains(r#"name="Microsoft.Windows.Common-Controls""#));
    assert!(manifest.contains(r#"version="6.0.0.0""#));
    assert!(manifest.contains("<ws2:longPathAware>true</ws2:longPathAware>"));
    let build = include_str!("../build.rs");
    assert!(build.contains(r#"include_str!("windows-app-manifest.xml")"#));
}

/// The installer script ships what the desk needs on Windows and keeps the user's data.
#[test]
fn the_windows_installer_ships_the_desk_the_cli_and_the_loader_and_keeps_data() {
    let nsi = include_str!("../packaging/windows/installer.nsi");
    for file in [
        "id-desk.exe",
        "id-desk-cli.exe",
        "WEBVIEW2_LOADER",
        "policy.toml.example",
    ] {
        assert!(nsi.contains(file), "{file}");
    }
    assert!(
        nsi.contains("RequestExecutionLevel user"),
        "staff have no admin rights"
    );
    assert!(nsi.contains(r#"shell\open\command" "" "$\"$INSTDIR\id-desk.exe$\" $\"%1$\"""#));
    let uninstall = nsi
        .split(r#"Section "Uninstall""#)
        .nth(1)
        .unwrap_or_default();
    assert!(
        !uninstall.contains("$LOCALAPPDATA\\ID Desk"),
        "the vault stays"
    );
    assert!(!uninstall.contains("$APPDATA"), "the profiles stay");
    assert!(
        !uninstall.contains("RMDir /r"),
        "nothing is removed wholesale"
    );
}
