//! Review N-18: IT's policy pins what the desk trusts, against the user's environment. Its own
//! test binary, because it sets `SSL_CERT_FILE` for the process (before any thread exists) and
//! puts network rules in force for every client the process builds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use id_desk_core::net::{self, client_builder};
use id_desk_core::policy::Policy;
use id_desk_simulator::{Simulator, SimulatorConfig};

/// A server certificate the user's environment trusts (`SSL_CERT_FILE`, as a same-user change of
/// `~/.profile` would set it) is trusted without policy, refused once policy pins the trust, and
/// trusted again when the CA is one of the policy's own files.
#[test]
fn a_pinned_policy_trusts_its_own_ca_files_and_not_the_users_environment() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime.block_on(async {
        let mut config = SimulatorConfig::for_tests();
        config.tls = true;
        Simulator::start(config).await.unwrap()
    });
    let pem = sim.tls_root_pem().unwrap().to_string();
    let user_ca = dir.path().join("users-own-ca.pem");
    std::fs::write(&user_ca, &pem).unwrap();
    // Read by the OS-store loader when a client is built, not before.
    std::env::set_var("SSL_CERT_FILE", &user_ca);

    let system = dir.path().join("system");
    std::fs::create_dir_all(&system).unwrap();
    std::fs::write(system.join("bank-ca.pem"), &pem).unwrap();
    let policy = |text: &str| {
        std::fs::write(system.join("policy.toml"), text).unwrap();
        Policy::load(&system).unwrap()
    };
    let fetch = || {
        let url = format!("{}/.well-known/openid-configuration", sim.base_url());
        runtime.block_on(async {
            let client = client_builder().build().unwrap();
            client.get(&url).send().await.map(|r| r.status().as_u16())
        })
    };

    net::apply(&policy("branch = \"Oslo\"\n").network).unwrap();
    let first = fetch();
    assert!(
        first.is_ok(),
        "without policy the environment's CA counts: {first:?}"
    );

    net::apply(&policy("[network]\ntrust = \"pinned\"\n").network).unwrap();
    let refused = net::describe(&fetch().unwrap_err());
    assert!(
        refused.contains("invalid peer certificate"),
        "refused for the certificate, not another reason: {refused}"
    );

    let pinned = policy("[network]\ntrust = \"pinned\"\nca_files = [\"bank-ca.pem\"]\n");
    net::apply(&pinned.network).unwrap();
    assert!(fetch().is_ok(), "the policy's own CA file counts");

    // A CA file that is not a certificate keeps the rules from being applied, naming the key.
    std::fs::write(system.join("bank-ca.pem"), "not a certificate").unwrap();
    let e = net::apply(&pinned.network).unwrap_err();
    assert_eq!(e.field(), Some("policy.network.ca_files[0]"));
}
