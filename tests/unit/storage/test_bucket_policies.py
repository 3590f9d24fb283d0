"""The seven buckets' policies in template.yaml (docs/storage.md "Buckets"): nothing public but
public-assets through CloudFront, contracts/invoices restricted, backups admin only, exports
expiring after 7 days."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud.template import load_template
from tests.helpers import ROOT

BUCKETS = [
    "MediaUploadsBucket",
    "GeneratedContentBucket",
    "ContractsBucket",
    "InvoicesBucket",
    "BackupsBucket",
    "ExportsBucket",
    "PublicAssetsBucket",
]


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    template: dict[str, Any] = load_template(ROOT / "template.yaml")
    return dict(template["Resources"])


def statements(resources: dict[str, Any], bucket: str) -> dict[str, dict[str, Any]]:
    policy = resources[f"{bucket}Policy"]["Properties"]["PolicyDocument"]
    return {s["Sid"]: s for s in policy["Statement"]}


@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_bucket_blocks_public_access_and_denies_plain_http(resources: dict[str, Any], bucket: str) -> None:
    block = resources[bucket]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(
        block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    )
    tls = statements(resources, bucket)["TlsOnly"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_public_assets_are_read_only_by_the_cloudfront_distribution(resources: dict[str, Any]) -> None:
    read = statements(resources, "PublicAssetsBucket")["CdnRead"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert "PublicAssetsCdn" in json.dumps(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    origin = resources["PublicAssetsCdn"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert "PublicAssetsOriginAccessControl" in json.dumps(origin["OriginAccessControlId"])
    assert not any(
        s.get("Principal") == "*" and s["Effect"] == "Allow"
        for s in statements(resources, "PublicAssetsBucket").values()
    )


@pytest.mark.parametrize(
    ("bucket", "roles"), [("ContractsBucket", "-*"), ("InvoicesBucket", "-*"), ("BackupsBucket", "-StorageBackup*")]
)
def test_restricted_buckets_deny_every_other_principal(resources: dict[str, Any], bucket: str, roles: str) -> None:
    deny = statements(resources, bucket)["OnlyListedRoles"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    allowed = json.dumps(deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"])
    assert f"role/${{AWS::StackName}}{roles}" in allowed and "StorageAdminRoleArn" in allowed


def test_exports_expire_after_seven_days(resources: dict[str, Any]) -> None:
    rules = resources["ExportsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [r["ExpirationInDays"] for r in rules if r["Status"] == "Enabled"] == [7]
