"""Makes the Django database `tests/import_django.rs` imports: the reference
server's project (../shared/anchors/simplejwt_ref: Django 5.2 +
djangorestframework-simplejwt 5.5.1, token_blacklist installed), migrated,
with a few thousand users and tokens minted and blacklisted by simplejwt
itself. Writes what the Rust test checks against as JSON.

    python make_django_db.py REF_DIR DB_PATH OUT_JSON USERS

SIMPLE_JWT_SIGNING_KEY must be set (the key both servers share). Hashes:
most users get pbkdf2_sha256 with 1 iteration (a subclass of Django's hasher,
so thousands are made in a second), a few Django's real defaults
(pbkdf2_sha256 at 1,000,000 iterations, pbkdf2_sha1), one md5 and one
unusable password (which the import must report, not verify).

Tokens: a few logins through the project's real URLconf and simplejwt's views
(Django's test client, in process: the same views gunicorn serves), half of
those refresh tokens blacklisted through POST /api/token/blacklist/; and one
refresh token per user made by RefreshToken.for_user (what the obtain view
does), every seventh blacklisted, so the token tables have thousands of rows.
"""

import json
import os
import sys
import time

ref_dir, db_path, out_path, n_users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, ref_dir)
os.environ["SIMPLEJWT_REF_DB"] = db_path
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.dont_write_bytecode = True

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import (  # noqa: E402
    MD5PasswordHasher,
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
    make_password,
)
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402


class OneIterationPBKDF2(PBKDF2PasswordHasher):
    """Django's pbkdf2_sha256, at 1 iteration: thousands of users in a second."""

    iterations = 1


call_command("migrate", verbosity=0, interactive=False)

start = time.time()
fast = OneIterationPBKDF2()
special = {
    1: ("pbkdf2_sha256", PBKDF2PasswordHasher()),  # Django's default, 1,000,000 iterations
    2: ("pbkdf2_sha256", PBKDF2PasswordHasher()),
    3: ("pbkdf2_sha1", PBKDF2SHA1PasswordHasher()),
    4: ("md5", MD5PasswordHasher()),
}
UNUSABLE_ID = 5
now = timezone.now().replace(microsecond=123456)
users, expected = [], []
for i in range(1, n_users + 1):
    username = f"user{i:05d}" if i > 3 else ["alice", "bob", "carol"][i - 1]
    password = f"pw-{username}-Secret-{i * 7919 % 10007}"
    kind, hasher = special.get(i, ("pbkdf2_sha256-fast", fast))
    encoded = make_password(password, hasher=hasher)
    if i == UNUSABLE_ID:
        encoded, kind = make_password(None), "unusable"
    active = i % 50 != 7
    last_login = None if i % 3 == 0 else now - timezone.timedelta(hours=i)
    joined = now - timezone.timedelta(days=i % 900, seconds=i)
    users.append(
        User(
            id=i,
            username=username,
            password=encoded,
            email=f"{username}@example.test" if i % 4 else "",
            first_name=f"First{i}" if i % 5 else "",
            last_name=f"Last{i}",
            is_active=active,
            is_staff=i % 97 == 0 or i == 1,
            is_superuser=i == 1,
            last_login=last_login,
            date_joined=joined,
        )
    )
    expected.append(
        {
            "id": i,
            "username": username,
            "password": password,
            "hash": encoded,
            "kind": kind,
            "email": users[-1].email,
            "first_name": users[-1].first_name,
            "last_name": users[-1].last_name,
            "is_active": active,
            "is_staff": users[-1].is_staff,
            "is_superuser": users[-1].is_superuser,
            "last_login": None if last_login is None else int(last_login.timestamp()),
            "date_joined": int(joined.timestamp()),
        }
    )
with transaction.atomic():
    User.objects.bulk_create(users, batch_size=500)

# Through the HTTP views: login, then blacklist every other refresh token.
client = Client(HTTP_HOST="127.0.0.1")
http_tokens = []
for row in expected[5:25]:
    if not row["is_active"]:
        continue
    answer = client.post(
        "/api/token/",
        {"username": row["username"], "password": row["password"]},
        content_type="application/json",
    )
    assert answer.status_code == 200, (row["username"], answer.status_code, answer.content)
    pair = answer.json()
    blacklisted = len(http_tokens) % 2 == 1
    if blacklisted:
        done = client.post(
            "/api/token/blacklist/", {"refresh": pair["refresh"]}, content_type="application/json"
        )
        assert done.status_code == 200, done.content
    protected = client.get("/api/protected/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert protected.status_code == 200, protected.content
    http_tokens.append(
        {
            "username": row["username"],
            "refresh": pair["refresh"],
            "access": pair["access"],
            "blacklisted": blacklisted,
        }
    )

# In bulk, as the obtain view makes them (OutstandingToken rows included).
bulk_tokens = []
with transaction.atomic():
    for user in User.objects.filter(is_active=True).order_by("id"):
        token = RefreshToken.for_user(user)
        blacklisted = user.id % 7 == 0
        if blacklisted:
            token.blacklist()
        if user.id % 100 == 0:
            bulk_tokens.append({"refresh": str(token), "blacklisted": blacklisted})

from rest_framework_simplejwt.token_blacklist.models import (  # noqa: E402
    BlacklistedToken,
    OutstandingToken,
)

# A login through Django re-hashes a password whose hasher parameters are not
# its preferred ones (the 1-iteration users who logged in above): what is
# stored now is what the import must copy.
stored = dict(User.objects.values_list("id", "password"))
for row in expected:
    row["hash"] = stored[row["id"]]

with open(out_path, "w") as fh:
    json.dump(
        {
            "users": expected,
            "http_tokens": http_tokens,
            "bulk_tokens": bulk_tokens,
            "outstanding": OutstandingToken.objects.count(),
            "blacklisted": BlacklistedToken.objects.count(),
        },
        fh,
    )
print(
    f"django database: {len(expected)} users, {OutstandingToken.objects.count()} outstanding, "
    f"{BlacklistedToken.objects.count()} blacklisted tokens in {time.time() - start:.1f}s",
    file=sys.stderr,
)
