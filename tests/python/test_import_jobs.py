"""Cognito's user import jobs (issue 17, item 2): boto3 creates a job, uploads a CSV in
Cognito's format to the job's pre-signed URL (served by cognate) with `requests` as one
does to S3, starts it and polls it to the end; the counts, the users, the single-use
URL, stopping, listing and the errors are Cognito's. Runs on PostgreSQL too when
COGNATE_TEST_POSTGRES_URL is set (conftest gives the server a database there)."""
import csv
import http.client
import io
import time
import urllib.parse
import uuid

import pytest
import requests

ROLE = "arn:aws:iam::123456789012:role/CognitoImportRole"
SSE = {"x-amz-server-side-encryption": "aws:kms"}


def csv_text(header, rows):
    """A CSV with `header`'s columns, each row a dict of the columns it fills."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"cognito:mfa_enabled": "false", **row})
    return out.getvalue()


def new_job(idp, pool, **extra):
    return idp.create_user_import_job(JobName=f"job-{uuid.uuid4().hex[:6]}", UserPoolId=pool["id"],
                                      CloudWatchLogsRoleArn=ROLE, **extra)["UserImportJob"]


def upload(job, text):
    return requests.put(job["PreSignedUrl"], data=text.encode(), headers=SSE, timeout=10)


def run_to_end(idp, pool, job):
    """Starts the job and polls until it ends; its final description."""
    started = idp.start_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])["UserImportJob"]
    assert started["Status"] in ("Pending", "InProgress") and started["StartDate"]
    deadline = time.time() + 20
    while True:
        described = idp.describe_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])["UserImportJob"]
        if described["Status"] not in ("Pending", "InProgress"):
            return described
        assert time.time() < deadline, described
        time.sleep(0.1)


def users_of(idp, pool):
    users = idp.list_users(UserPoolId=pool["id"])["Users"]
    return {u["Username"]: {a["Name"]: a["Value"] for a in u["Attributes"]} | {"status": u["UserStatus"]}
            for u in users}


def test_a_cognito_csv_job_runs_end_to_end_with_boto3_and_requests(idp, pool):
    header = idp.get_csv_header(UserPoolId=pool["id"])["CSVHeader"]
    job = new_job(idp, pool)
    assert job["JobId"].startswith("import-") and job["Status"] == "Created"
    assert job["CloudWatchLogsRoleArn"] == ROLE and job["ImportedUsers"] == 0
    assert "/import-jobs/" in job["PreSignedUrl"] and "token=" in job["PreSignedUrl"]
    rows = [{"cognito:username": "ann", "email": "ann@example.com", "email_verified": "true",
             "given_name": "Ann", "custom:team": "blue"},
            {"cognito:username": "bob", "email": "bob@example.com", "email_verified": "true",
             "name": "Bob, \"the\" Builder"},
            # Padding (trimmed away) makes the file span two of the 1 MiB chunks it is stored in.
            {"cognito:username": "cy", "given_name": "Cy" + " " * (1300 * 1024), "nickname": "cy"}]
    res = upload(job, csv_text(header, rows))
    assert res.status_code == 200, res.text
    done = run_to_end(idp, pool, job)
    assert done["Status"] == "Succeeded", done
    assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (3, 0, 0)
    assert done["CompletionDate"] >= done["StartDate"] >= done["CreationDate"]
    assert done["CompletionMessage"]
    users = users_of(idp, pool)
    assert users["ann"]["email"] == "ann@example.com" and users["ann"]["custom:team"] == "blue"
    assert users["bob"]["name"] == 'Bob, "the" Builder'
    assert users["ann"]["status"] == "RESET_REQUIRED"
    assert users["cy"]["given_name"] == "Cy" and users["cy"]["nickname"] == "cy"
    # An ended job cannot be started again.
    with pytest.raises(idp.exceptions.PreconditionNotMetException):
        idp.start_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])


def test_bad_rows_fail_by_themselves_with_cognitos_counts_and_good_users_exist(idp, pool):
    header = idp.get_csv_header(UserPoolId=pool["id"])["CSVHeader"]
    idp.admin_create_user(UserPoolId=pool["id"], Username="already", MessageAction="SUPPRESS")
    rows = [
        {"cognito:username": "good-1", "email": "good-1@example.com", "email_verified": "true"},
        {"cognito:username": "", "email": "nobody@example.com"},                          # no username
        {"cognito:username": "mfa-user", "cognito:mfa_enabled": "maybe"},                # unknown value
        {"cognito:username": "bad-mail", "email": "not-an-email", "email_verified": "true"},
        {"cognito:username": "good-1", "email": "again@example.com"},                     # duplicate
        {"cognito:username": "already"},                                                  # in the pool
        {"cognito:username": "good-2", "phone_number": "+15555550100"},
    ]
    job = new_job(idp, pool)
    assert upload(job, csv_text(header, rows)).status_code == 200
    done = run_to_end(idp, pool, job)
    assert done["Status"] == "Succeeded", done
    assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (2, 2, 3), done
    users = users_of(idp, pool)
    assert {"good-1", "good-2", "already"} == set(users)
    assert users["good-1"]["email"] == "good-1@example.com"  # the duplicate changed nothing


def test_a_file_without_the_username_column_fails_the_job(idp, pool):
    job = new_job(idp, pool)
    assert upload(job, "email,name\nx@example.com,X\n").status_code == 200
    done = run_to_end(idp, pool, job)
    assert done["Status"] == "Failed" and "cognito:username" in done["CompletionMessage"], done
    assert len(done["CompletionMessage"]) <= 128
    assert users_of(idp, pool) == {}


def test_the_pre_signed_url_takes_one_upload_and_refuses_a_wrong_token(idp, pool):
    header = idp.get_csv_header(UserPoolId=pool["id"])["CSVHeader"]
    job = new_job(idp, pool)
    url = job["PreSignedUrl"]
    forged = url[: url.index("token=") + 6] + "A" * 43
    refused = requests.put(forged, data=b"cognito:username\nmallory\n", timeout=10)
    assert refused.status_code == 403 and "AccessDenied" in refused.text
    assert requests.put(url.split("?")[0], data=b"x", timeout=10).status_code == 403
    assert upload(job, csv_text(header, [{"cognito:username": "first"}])).status_code == 200
    again = upload(job, csv_text(header, [{"cognito:username": "second"}]))
    assert again.status_code == 403 and "AccessDenied" in again.text
    # The URL is shown again by Describe, as Cognito does; it is still used up.
    described = idp.describe_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])["UserImportJob"]
    assert described["PreSignedUrl"] == url
    done = run_to_end(idp, pool, job)
    assert done["ImportedUsers"] == 1 and set(users_of(idp, pool)) == {"first"}


def test_a_job_cannot_start_without_its_file_and_stops_before_it_runs(idp, pool):
    job = new_job(idp, pool)
    with pytest.raises(idp.exceptions.PreconditionNotMetException):
        idp.start_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])
    stopped = idp.stop_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])["UserImportJob"]
    assert stopped["Status"] == "Stopped" and stopped["CompletionDate"]
    with pytest.raises(idp.exceptions.PreconditionNotMetException):
        idp.stop_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])
    # A stopped job's URL takes nothing.
    assert upload(job, "cognito:username\nlate\n").status_code == 403


def test_jobs_are_listed_page_by_page(idp, pool):
    created = {new_job(idp, pool)["JobId"] for _ in range(3)}
    first = idp.list_user_import_jobs(UserPoolId=pool["id"], MaxResults=2)
    assert len(first["UserImportJobs"]) == 2 and first["PaginationToken"]
    rest = idp.list_user_import_jobs(UserPoolId=pool["id"], MaxResults=2,
                                     PaginationToken=first["PaginationToken"])
    assert len(rest["UserImportJobs"]) == 1 and "PaginationToken" not in rest
    assert {j["JobId"] for j in first["UserImportJobs"] + rest["UserImportJobs"]} == created
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_user_import_jobs(UserPoolId=pool["id"], MaxResults=2, PaginationToken="forged")


def test_unknown_jobs_pools_and_bad_members_get_cognitos_exceptions(idp, pool):
    for call in (idp.describe_user_import_job, idp.start_user_import_job, idp.stop_user_import_job):
        with pytest.raises(idp.exceptions.ResourceNotFoundException):
            call(UserPoolId=pool["id"], JobId="import-doesNotExist")
    # Another pool's job is not found in this one.
    other = idp.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    job = new_job(idp, {"id": other})
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        new_job(idp, {"id": "us-east-1_doesNotExist"})
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.describe_user_import_job(UserPoolId=pool["id"], JobId="not-a-job-id")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_import_job(JobName="bad/name", UserPoolId=pool["id"], CloudWatchLogsRoleArn=ROLE)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_import_job(JobName="j", UserPoolId=pool["id"], CloudWatchLogsRoleArn="not-an-arn-but-long-enough")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        new_job(idp, pool, PasswordHashingAlgorithm="MD5")


def test_a_file_over_the_limit_is_refused_before_it_is_read_and_the_url_stays_open(idp, pool):
    job = new_job(idp, pool)
    url = urllib.parse.urlsplit(job["PreSignedUrl"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("PUT", f"{url.path}?{url.query}")
    conn.putheader("Content-Length", str(100 * 1024 * 1024 + 1))  # the limit is 100 MiB
    conn.endheaders()
    res = conn.getresponse()
    assert res.status == 413 and b"EntityTooLarge" in res.read()
    conn.close()
    assert upload(job, "cognito:username\nfits\n").status_code == 200


def test_a_running_job_stops_after_the_row_it_is_reading(idp, pool):
    # Far more rows than can be imported before the stop is seen (the run looks a second
    # after it began reading, then every second).
    total = 50000
    header = ["cognito:username", "cognito:mfa_enabled", "name"]
    rows = [{"cognito:username": f"many-{i}", "name": f"Line\n{i}"} for i in range(total)]
    job = new_job(idp, pool)
    assert upload(job, csv_text(header, rows)).status_code == 200
    idp.start_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])
    deadline = time.time() + 30
    while idp.describe_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])["UserImportJob"]["Status"] == "Pending":
        assert time.time() < deadline
        time.sleep(0.05)
    stopping = idp.stop_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])["UserImportJob"]
    assert stopping["Status"] == "Stopping", stopping
    while True:
        done = idp.describe_user_import_job(UserPoolId=pool["id"], JobId=job["JobId"])["UserImportJob"]
        if done["Status"] != "Stopping":
            break
        assert time.time() < deadline
        time.sleep(0.1)
    assert done["Status"] == "Stopped" and done["CompletionDate"], done
    # No half row (names span two lines): nothing failed, and every user counted exists.
    assert 0 < done["ImportedUsers"] < total and done["FailedUsers"] == 0, done
    described = idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]
    assert described["EstimatedNumberOfUsers"] == done["ImportedUsers"]
