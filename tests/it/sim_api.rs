//! The simulator answers like the vendors: the seeds' own samples, refusals in each vendor's format,
//! IIS-style paths, the Gen1 lookup older clients use.

use crate::common::Sim;

const JSON: (&str, &str) = ("Content-Type", "application/json");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const PAM_TOKEN: &str = "5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11";
const APIKEY: &str = "d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3";

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn pam360_seed_curl_sample_gets_the_documented_answer() {
    let sim = Sim::start();
    // The cURL sample of the PAM360 API document, as --data-urlencode sends it.
    let input = r#"{"operation":{"Details":{"FIRSTNAME":"Jason","LASTNAME":"J","USERNAME":"Jason","EMAIL":"jason@opmanager.com","ROLE":"Administrator","DEPARTMENT":"NOC","LOCATION":"Level 10 - South Wing","ISSUPERADMIN":false,"WEBACCESS":true,"POLICY":"Strong","PASSWORD":"Test@123","ENABLEMOBILEACCESS":true,"ENABLEADDONACCESS":true,"REMOTECONNECTACCESS":true,"REMOTECONNECTVIASSHPROXY":false,"ENABLETWOFACTOR":true,"RSAUSERNAME":"Jason","RADIUSUSERNAME":"Jason","PHONEFACTOR_USERNAME":"Jason","DUOUSERNAME":"Jason","PRIMARYCONTACT":"Mobile","MOBILE_COUNTRYCODE":"91","MOBILE":"9876543210","LANDLINE":"12312311","LANDLINE_COUNTRYCODE":"355","LANDLINE_EXT":"907","RESTAPIACCESS":true,"SDKACCESS":true,"OWNERNAMEOPTION":false,"EXPIRYDATE":"2025-10-30","HOSTCHECK":true,"HOSTNAME":"john-1234"}}}"#;
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("INPUT_DATA", input)
        .finish();
    let (status, text) = sim.send(
        "POST",
        "/restapi/json/v1/user",
        &[("AUTHTOKEN", PAM_TOKEN), FORM],
        &body,
    );
    assert_eq!(status, 200);
    let j = json(&text);
    assert_eq!(j["operation"]["result"]["status"], "Success");
    assert_eq!(
        j["operation"]["result"]["message"],
        "User Jason has been added successfully."
    );
    assert_eq!(j["operation"]["Details"]["USERID"], "603");
    assert_eq!(j["operation"]["name"], "CREATE_USER");
    let token = j["operation"]["Details"]["AUTHTOKEN"].as_str().unwrap();
    assert_eq!(token.len(), 36);
    assert_eq!(token, token.to_uppercase());

    // The Python sample's string booleans are accepted too, and a duplicate fails with HTTP 200.
    let py = r#"{"operation":{"Details":{"USERNAME":"jason2","FIRSTNAME":"Jason","LASTNAME":"Thomas","EMAIL":"jason@opmanager.com","POLICY":"Strong","ROLE":"Password User","DEPARTMENT":"NOC","LOCATION":"Level 10 - South Wing","ISAPIUSER":"true","HOSTNAME":"admin-2100","EXPIRYDATE":"2025-12-30"}}}"#;
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("INPUT_DATA", py)
        .finish();
    let (_, text) = sim.send(
        "POST",
        "/restapi/json/v1/user",
        &[("AUTHTOKEN", PAM_TOKEN), FORM],
        &body,
    );
    assert_eq!(
        json(&text)["operation"]["result"]["status"],
        "Success",
        "{text}"
    );
    let (status, text) = sim.send(
        "POST",
        "/restapi/json/v1/user",
        &[("AUTHTOKEN", PAM_TOKEN), FORM],
        &body,
    );
    assert_eq!(status, 200);
    assert_eq!(json(&text)["operation"]["result"]["status"], "Failed");
    assert!(text.contains("already exists"), "{text}");
}

#[test]
fn pam360_refuses_missing_auth_and_garbage_in_its_format() {
    let sim = Sim::start();
    let (status, text) = sim.send(
        "POST",
        "/restapi/json/v1/user",
        &[FORM],
        "INPUT_DATA=%7B%7D",
    );
    assert_eq!(status, 200);
    assert_eq!(json(&text)["operation"]["result"]["status"], "Failed");
    assert!(text.contains("AUTHTOKEN"), "{text}");
    let (status, text) = sim.send(
        "POST",
        "/restapi/json/v1/user",
        &[("AUTHTOKEN", PAM_TOKEN), FORM],
        "INPUT_DATA=%7Bnot+json",
    );
    assert_eq!(status, 200);
    assert_eq!(json(&text)["operation"]["result"]["status"], "Failed");
    assert!(text.contains("Invalid INPUT_DATA"), "{text}");
    // A token the simulator handed to a new API user works for calls.
    let (_, text) = sim.send(
        "GET",
        "/restapi/json/v1/user/getUserId?USERNAME=admin",
        &[("AUTHTOKEN", PAM_TOKEN)],
        "",
    );
    assert_eq!(json(&text)["operation"]["Details"]["USERID"], "1");
}

#[test]
fn appmanager_seed_url_sample_gets_the_documented_answer() {
    let sim = Sim::start();
    // The sample request of the document, POSTed with its query string as given.
    let path = format!(
        "/AppManager/xml/Users/create?apikey={APIKEY}&userName=admin&role=MANAGER&password=appman&email=example@example.com"
    );
    let (status, text) = sim.send("POST", &path, &[], "");
    assert_eq!(status, 200);
    let expected = r#"<AppManager-response uri="/appmanager/xml/users/create">
<result>
<response response-code="4000">
<User email="example@example.com" userId="6" description="manager" userName="admin" role="MANAGER">
<AssociatedGroups groupId="10000035" groupName="Applications Manager"/>
<AssociatedGroups groupId="10000037" groupName="mg1"/>
<AssociatedGroups groupId="10000038" groupName="mg2"/>
</User>
</response>
</result>
</AppManager-response>"#;
    assert_eq!(text, expected);
}

#[test]
fn appmanager_refuses_bad_keys_duplicates_and_methods_in_its_format() {
    let sim = Sim::start();
    let (_, text) = sim.send(
        "POST",
        "/AppManager/json/Users/create",
        &[FORM],
        "apikey=wrongkey&userName=a",
    );
    let j = json(&text);
    assert_eq!(j["response-code"], "4004");
    assert!(
        j["response"]["message"]
            .as_str()
            .unwrap()
            .contains("[ wrongkey ]"),
        "{text}"
    );

    let body = format!("apikey={APIKEY}&userName=dup&role=USER&password=x&email=d%40example.com");
    let (_, first) = sim.send("POST", "/AppManager/json/Users/create", &[FORM], &body);
    assert_eq!(json(&first)["response-code"], "4000", "{first}");
    let (_, second) = sim.send("POST", "/AppManager/json/Users/create", &[FORM], &body);
    assert_eq!(json(&second)["response-code"], "4032");
    assert!(second.contains("already exists"), "{second}");

    let (_, get) = sim.get(&format!("/AppManager/json/Users/create?apikey={APIKEY}"));
    assert_eq!(json(&get)["response-code"], "4016");
    let (_, missing) = sim.send(
        "POST",
        "/AppManager/json/Users/create",
        &[FORM],
        &format!("apikey={APIKEY}&userName=x"),
    );
    assert!(
        missing.contains("\"4032\"") && missing.contains("mandatory"),
        "{missing}"
    );
    let (_, xml) = sim.send(
        "POST",
        "/AppManager/xml/Users/create",
        &[FORM],
        "apikey=bad",
    );
    assert!(
        xml.contains("response-code=\"4004\"") && xml.contains("<message>"),
        "{xml}"
    );
}

#[test]
fn cyberark_refuses_duplicates_missing_auth_and_garbage_in_its_format() {
    let sim = Sim::start();
    let (status, text) = sim.send(
        "POST",
        "/PasswordVault/API/Users",
        &[JSON],
        r#"{"username":"x"}"#,
    );
    assert_eq!(status, 401);
    assert_eq!(json(&text)["ErrorCode"], "PASWS006E");

    let token = sim.cyberark_token();
    assert!(token.len() >= 180, "psPAS expects a long token");
    let auth = ("Authorization", token.as_str());
    let create = r#"{"username":"dup","initialPassword":"Passw0rdX"}"#;
    let (status, text) = sim.send("POST", "/PasswordVault/API/Users/", &[JSON, auth], create);
    assert_eq!(status, 201, "{text}");
    let user = json(&text);
    assert_eq!(user["expiryDate"], -62_135_578_800i64);
    assert_eq!(user["personalDetails"]["firstName"], "");
    let (status, text) = sim.send("POST", "/PasswordVault/API/Users", &[JSON, auth], create);
    assert_eq!(status, 409);
    assert_eq!(json(&text)["ErrorCode"], "PASWS027E");

    let (status, text) = sim.send(
        "POST",
        "/PasswordVault/API/Users",
        &[JSON, auth],
        "{not json",
    );
    assert_eq!(status, 400);
    assert_eq!(json(&text)["ErrorCode"], "PASWS167E");
    let (status, text) = sim.send(
        "POST",
        "/PasswordVault/API/Users",
        &[JSON, auth],
        r#"{"username":"weak","initialPassword":"short"}"#,
    );
    assert_eq!(status, 400);
    assert!(text.contains("password policy"), "{text}");
    let (status, _) = sim.send(
        "POST",
        "/PasswordVault/API/Users",
        &[("Content-Type", "text/plain"), auth],
        "x",
    );
    assert_eq!(status, 415);
    let (status, text) = sim.send("PATCH", "/PasswordVault/API/Users", &[auth], "");
    assert_eq!(status, 405, "{text}");
    let (status, text) = sim.send("GET", "/PasswordVault/API/Nothing", &[auth], "");
    assert_eq!(status, 404);
    assert!(
        json(&text)["Message"]
            .as_str()
            .unwrap()
            .contains("No HTTP resource")
    );

    let (status, text) = sim.send(
        "POST",
        "/PasswordVault/API/auth/CyberArk/Logon",
        &[JSON],
        r#"{"username":"onboard-sim","password":"nope"}"#,
    );
    assert_eq!(status, 403);
    assert_eq!(json(&text)["ErrorCode"], "ITATS004E");
    let bearer = format!("Bearer {token}");
    let (status, _) = sim.send(
        "GET",
        "/PasswordVault/API/Users",
        &[("Authorization", bearer.as_str())],
        "",
    );
    assert_eq!(status, 401, "self-hosted PVWA takes the bare token");
}

#[test]
fn cyberark_paths_match_ignoring_case_and_names_bind_ignoring_case() {
    let sim = Sim::start();
    let (status, text) = sim.send(
        "POST",
        "/passwordvault/api/Auth/cyberark/logon",
        &[JSON],
        r#"{"UserName":"ONBOARD-SIM","Password":"Sim-Vault-Passw0rd","concurrentSession":true}"#,
    );
    assert_eq!(status, 200, "{text}");
    let token: String = serde_json::from_str(&text).unwrap();
    let auth = ("Authorization", token.as_str());
    // What CyberArk's Ansible module sends: Gen1 names to the Gen2 endpoint. Names it
    // knows bind; Email and FirstName are silently dropped, as on PVWA.
    let (status, text) = sim.send(
        "POST",
        "/PasswordVault/api/Users",
        &[JSON, auth],
        r#"{"UserName":"ansible1","InitialPassword":"Passw0rdX","Email":"a@b.c","FirstName":"A","enableUser":"True"}"#,
    );
    assert_eq!(status, 201, "{text}");
    let u = json(&text);
    assert_eq!(u["username"], "ansible1");
    assert_eq!(u["internet"]["businessEmail"], "");
    let (status, text) = sim.send(
        "GET",
        "/PASSWORDVAULT/API/USERS?search=ANSIBLE",
        &[auth],
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(json(&text)["Total"], 1);
}

#[test]
fn cyberark_gen1_user_lookup_works_as_older_clients_expect() {
    let sim = Sim::start();
    let token = sim.cyberark_token();
    let auth = ("Authorization", token.as_str());
    let (status, text) = sim.send(
        "GET",
        "/PasswordVault/WebServices/PIMServices.svc/Users/nobody",
        &[auth],
        "",
    );
    assert_eq!(status, 404);
    assert!(text.contains("ITATS003E"), "{text}");
    let (status, _) = sim.send(
        "POST",
        "/PasswordVault/API/Users",
        &[JSON, auth],
        r#"{"username":"g1","initialPassword":"Passw0rdX","internet":{"businessEmail":"g1@example.com"}}"#,
    );
    assert_eq!(status, 201);
    let (status, text) = sim.send(
        "GET",
        "/PasswordVault/WebServices/PIMServices.svc/Users/g1",
        &[auth],
        "",
    );
    assert_eq!(status, 200, "{text}");
    let u = json(&text);
    assert_eq!(u["UserName"], "g1");
    assert_eq!(u["Email"], "g1@example.com");
    assert_eq!(u["UserTypeName"], "EPVUser");
    assert_eq!(u["Disabled"], false);
    // psPAS asks the version at logon.
    let (status, text) = sim.send(
        "GET",
        "/PasswordVault/WebServices/PIMServices.svc/Server",
        &[auth],
        "",
    );
    assert_eq!(status, 200);
    assert!(json(&text)["ExternalVersion"].is_string());
}

#[test]
fn fault_injection_answers_500_in_each_vendors_format_and_changes_nothing() {
    let sim = Sim::with(&["--fail-every", "1"]);
    let (status, text) = sim.send(
        "POST",
        "/PasswordVault/API/auth/CyberArk/Logon",
        &[JSON],
        "{}",
    );
    assert_eq!(status, 500);
    assert_eq!(json(&text)["Message"], "An error has occurred.");
    let (status, text) = sim.send(
        "POST",
        &format!("/AppManager/json/Users/create?apikey={APIKEY}"),
        &[],
        "",
    );
    assert_eq!(status, 500);
    assert!(text.contains("Apache Tomcat"));
    // The five built-in users and the leaver the simulator starts with.
    assert_eq!(sim.users("appmanager").len(), 6);
}

#[test]
fn a_500_from_a_vendor_is_a_server_error_in_scripts() {
    let sim = Sim::with(&["--fail-every", "1"]);
    let out = sim.run(
        r#"
for v in ["pam360", "appmanager"] {
    try {
        if v == "pam360" { pam360::user_exists("a"); } else { appmanager::user_exists("a"); }
    } catch (e) { print(`${e.vendor}|${e.kind}|${e.status}|${e.retryable}`); }
}
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "pam360|server|500|true\nappmanager|server|500|true\n"
    );
}

#[test]
fn rate_limit_answers_429_with_retry_after_which_is_honoured() {
    let sim = Sim::with(&["--rate-limit", "1"]);
    let _ = sim.get("/restapi/json/v1/user/getUserId?USERNAME=a");
    // Retried after the Retry-After second, and the retry is on the journal.
    let started = std::time::Instant::now();
    let out = sim.run(
        r#"print(pam360::user_exists("a")); pam360::create_user(#{ username: "rl", first_name: "R", last_name: "L", email: "rl@example.com" });"#,
        &[],
    );
    assert_eq!(out.stdout, "false\n", "{}", out.all());
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let retries: Vec<_> = sim
        .journal_records()
        .into_iter()
        .filter(|r| r["type"] == "retry")
        .collect();
    assert!(!retries.is_empty(), "{:?}", sim.journal_records());
    assert!(
        retries
            .iter()
            .all(|r| r["error_kind"] == "rate_limited" && r["wait_ms"].as_u64().unwrap() >= 1000)
    );
    assert!(sim.has_user("pam360", "rl"));

    // With retries off the script sees the error.
    let _ = sim.get("/restapi/json/v1/user/getUserId?USERNAME=a");
    let config = sim.config_with(|t| format!("{t}\n[profiles.sim.retry]\nattempts = 1\n"));
    let out = sim.run_with_config(
        &config,
        r#"try { pam360::user_exists("a"); } catch (e) { print(`${e.kind}|${e.retryable}`); }"#,
        &[],
    );
    assert_eq!(out.stdout, "rate_limited|true\n", "{}", out.all());
}

#[test]
fn a_closed_port_is_a_transport_error() {
    let sim = Sim::start();
    let config = sim.config_with(|t| t.replace(&sim.url, "http://127.0.0.1:9"));
    let out = sim.run_with_config(
        &config,
        r#"try { appmanager::user_exists("a"); } catch (e) { print(`${e.kind}|${e.message}`); }"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .starts_with("transport|cannot connect to http://127.0.0.1:9"),
        "{}",
        out.stdout
    );
}
