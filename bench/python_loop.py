"""The status quo for `bench/`: the PAM360 API document's Python `requests` sample, looped over
the same people, with the same CyberArk and Applications Manager calls, one call after another.

python_loop.py BASE_URL PEOPLE   prints the seconds it took.
"""
import json
import sys
import time

import requests

base, people = sys.argv[1], int(sys.argv[2])
logon = requests.post(f"{base}/PasswordVault/API/auth/CyberArk/Logon",
                      json={"username": "onboard-sim", "password": "Sim-Vault-Passw0rd"})
token = logon.json()
started = time.monotonic()
for i in range(1, people + 1):
    name = f"p{i}"
    email = f"{name}@example.com"
    r = requests.post(f"{base}/PasswordVault/API/Users", headers={"Authorization": token},
                      json={"username": name, "initialPassword": "Bench-Passw0rd-1",
                            "personalDetails": {"firstName": "Bench", "lastName": name},
                            "internet": {"businessEmail": email}})
    assert r.status_code == 201, r.text
    # As in the PAM360 document's Python sample.
    url = f"{base}/restapi/json/v1/user"
    headers = {"AUTHTOKEN": "5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11",
               "Content-Type": "application/x-www-form-urlencoded"}
    details = {"operation": {"Details": {"USERNAME": name, "FIRSTNAME": "Bench", "LASTNAME": name,
                                         "EMAIL": email}}}
    payload = {"INPUT_DATA": json.dumps(details)}
    r = requests.post(url, headers=headers, data=payload, verify=True)
    assert r.json()["operation"]["result"]["status"] == "Success", r.text
    r = requests.post(f"{base}/AppManager/json/Users/create",
                      data={"apikey": "d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3", "userName": name,
                            "role": "OPERATOR", "password": "Bench-Passw0rd-1", "email": email})
    assert r.json()["response-code"] == "4000", r.text
print(f"{time.monotonic() - started:.3f}")
