//! The limit for `bench/`: a raw async reqwest client making the same three creates per person
//! as `bench/onboard_people.rhai`, at the same concurrency, one task per person spawned on the
//! runtime's worker threads (so it uses every core, as onboard does). It reads and parses every
//! answer and checks it as any client must (CyberArk's status, PAM360's `status` and
//! Applications Manager's `response-code` are in the body), and nothing else: no validation,
//! journal, retries or script.
//!
//! `raw_client BASE_URL PEOPLE JOBS` prints the seconds its requests took; `bench/run.py` times
//! the whole process, as it times onboard's.
use std::time::Instant;

use std::sync::Arc;

use serde_json::{Value, json};

const PAM360_TOKEN: &str = "5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11";
const APIKEY: &str = "d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3";

type Error = Box<dyn std::error::Error + Send + Sync>;

// The allocator onboard uses: the limit gets every advantage onboard has.
#[global_allocator]
static ALLOC: onboard::util::alloc::Mi = onboard::util::alloc::Mi;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let [_, base, people, jobs] = args.as_slice() else {
        return Err("usage: raw_client BASE_URL PEOPLE JOBS".into());
    };
    let people: usize = people.parse()?;
    let jobs: usize = jobs.parse()?;
    // The simulator speaks plain HTTP: no system CA store to load, as onboard does for http://.
    let client = reqwest::Client::builder()
        .tls_certs_only(Vec::new())
        // The same request bytes as onboard's.
        .user_agent(concat!("onboard/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(64)
        .build()?;
    let logon = client
        .post(format!("{base}/PasswordVault/API/auth/CyberArk/Logon"))
        .json(&json!({ "username": "onboard-sim", "password": "Sim-Vault-Passw0rd", "concurrentSession": true }))
        .send()
        .await?
        .error_for_status()?;
    let token: String = logon.json().await?;
    let started = Instant::now();
    let client = Arc::new(client);
    let (base, token) = (Arc::new(base.clone()), Arc::new(token));
    let slots = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut tasks = Vec::with_capacity(people);
    for i in 1..=people {
        let (client, base, token, slots) =
            (client.clone(), base.clone(), token.clone(), slots.clone());
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await;
            person(&client, &base, &token, i).await.is_err()
        }));
    }
    let mut failures = 0;
    for t in tasks {
        failures += usize::from(t.await.unwrap_or(true));
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = client
        .post(format!("{base}/PasswordVault/API/Auth/Logoff"))
        .header("Authorization", token.as_str())
        .send()
        .await;
    println!("{secs:.3}");
    if failures > 0 {
        return Err(format!("{failures} people failed").into());
    }
    Ok(())
}

async fn person(client: &reqwest::Client, base: &str, token: &str, i: usize) -> Result<(), Error> {
    let name = format!("p{i}");
    let email = format!("{name}@example.com");
    let reply = client
        .post(format!("{base}/PasswordVault/API/Users"))
        .header("Authorization", token)
        .json(&json!({
            "username": name, "initialPassword": "Bench-Passw0rd-1",
            "personalDetails": { "firstName": "Bench", "lastName": name },
            "internet": { "businessEmail": email },
        }))
        .send()
        .await?;
    if reply.status().as_u16() != 201 {
        return Err("cyberark".into());
    }
    let created: Value = reply.json().await?;
    created.get("id").ok_or("cyberark id")?;

    let input = json!({ "operation": { "Details": {
        "USERNAME": name, "FIRSTNAME": "Bench", "LASTNAME": name, "EMAIL": email,
    }}})
    .to_string();
    let answer: Value = client
        .post(format!("{base}/restapi/json/v1/user"))
        .header("AUTHTOKEN", PAM360_TOKEN)
        .form(&[("INPUT_DATA", input.as_str())])
        .send()
        .await?
        .json()
        .await?;
    if answer["operation"]["result"]["status"] != "Success" {
        return Err("pam360".into());
    }

    let answer: Value = client
        .post(format!("{base}/AppManager/json/Users/create"))
        .form(&[
            ("apikey", APIKEY),
            ("userName", name.as_str()),
            ("role", "OPERATOR"),
            ("password", "Bench-Passw0rd-1"),
            ("email", email.as_str()),
        ])
        .send()
        .await?
        .json()
        .await?;
    if answer["response-code"] != "4000" {
        return Err("appmanager".into());
    }
    Ok(())
}
