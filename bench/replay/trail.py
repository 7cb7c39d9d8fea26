"""Generated CloudTrail for `make bench-replay`: made up from scratch with a fixed seed, no real record.

The records have the shape CloudTrail writes (eventVersion 1.08/1.09, an AssumedRole userIdentity
with its session context, tlsDetails, nested requestParameters, responseElements null for reads)
and the mix of a real management trail: about 90% reads, about 9% writes no rule listens to or
calls that failed, about 1% writes snapback's rules judge (world-open ingress on 22 and 443, a
public EKS endpoint, IMDSv1 allowed, ...), some of them harmless (ranges of a private network,
IMDSv2 required) so that not every judged record is a finding.

Four inputs are written under one directory, each once (see `ensure`):
- trail.json: one `{"Records":[...]}` document on one line, as CloudTrail writes it (~100 MB);
- trail.json.gz: the same bytes gzipped (level 6);
- records.jsonl: JSON Lines, the trail's records repeated with fresh eventIDs (~1 GB), streamed;
- objects/AWSLogs/o-exampleorg1/<account>/CloudTrail/<region>/2026/11/DD/<account>_CloudTrail_
  <region>_2026110DTHHMMZ_<random>.json.gz: 2,000 small trail files (50-200 records each) over
  3 accounts, 2 regions, 3 days, as an organization trail lays them out in its bucket.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import itertools
import json
import random
import shutil
import string
import time
import uuid
from pathlib import Path
from typing import Callable

SEED = 20261101
TRAIL_BYTES = 100_000_000
JSONL_BYTES = 1_000_000_000
OBJECTS = 2_000
OBJECT_RECORDS = (50, 200)
ORG = "o-exampleorg1"
ACCOUNTS = ("111122223333", "444455556666", "777788889999")
REGIONS = ("eu-west-1", "us-east-1")
DAYS = 3
START = 1793491200  # 2026-11-01T00:00:00Z
HERE = Path(__file__).resolve().parent

UPPER = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
COMPACT = (",", ":")


def version_key() -> str:
    """What the data depends on: this file's code. A change to it regenerates the data."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def console_time(t: float) -> str:
    """The "Nov 1, 2026, 9:14:03 AM" form some responses use for expirations."""
    tm = time.gmtime(t)
    hour = tm.tm_hour % 12 or 12
    noon = "AM" if tm.tm_hour < 12 else "PM"
    return f"{time.strftime('%b', tm)} {tm.tm_mday}, {tm.tm_year}, {hour}:{tm.tm_min:02d}:{tm.tm_sec:02d} {noon}"


class Account:
    """One account's standing resources, so records name the same instances, groups and roles."""

    def __init__(self, rng: random.Random, account: str):
        self.id = account
        hexid = lambda n: f"{rng.getrandbits(4 * n):0{n}x}"  # noqa: E731
        self.instances = [f"i-0{hexid(16)}" for _ in range(120)]
        self.groups = [f"sg-0{hexid(16)}" for _ in range(60)]
        self.vpcs = [f"vpc-0{hexid(16)}" for _ in range(3)]
        self.subnets = [f"subnet-0{hexid(16)}" for _ in range(12)]
        self.enis = [f"eni-0{hexid(16)}" for _ in range(80)]
        self.volumes = [f"vol-0{hexid(16)}" for _ in range(80)]
        self.amis = [f"ami-0{hexid(16)}" for _ in range(6)]
        self.clusters = ["prod", "staging", "data-platform", "ml-batch"]
        self.buckets = [
            f"{name}-{account}"
            for name in ("app-artifacts", "terraform-state", "data-lake-raw", "logs-archive", "ml-models")
        ]
        self.repositories = ["api", "worker", "frontend", "platform/ingress-nginx", "platform/karpenter", "ml/trainer"]
        self.keys = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(5)]
        self.parameters = [
            "/prod/api/database-url",
            "/prod/worker/queue-url",
            "/staging/api/database-url",
            "/shared/datadog/api-key",
        ]
        self.log_groups = [f"/aws/eks/{c}/cluster" for c in self.clusters] + [
            "/aws/lambda/snapshot-cleaner",
            "/ecs/batch",
        ]
        # (role, session names, user agents, source addresses); the role's AROA id is fixed.
        self.roles = []
        for role, sessions, agents, sources in ROLES:
            principal = "AROA" + "".join(rng.choices(UPPER, k=17))
            keys = ["ASIA" + "".join(rng.choices(UPPER, k=16)) for _ in range(4)]
            self.roles.append((role, principal, sessions(rng), agents, sources, keys))


def _nodes(rng: random.Random) -> list[str]:
    return [f"i-0{rng.getrandbits(64):016x}" for _ in range(8)]


def _people(_rng: random.Random) -> list[str]:
    return ["alice@example.com", "bob@example.com", "carol@example.com", "dan@example.com"]


def _fixed(*names: str) -> Callable[[random.Random], list[str]]:
    return lambda _rng: list(names)


CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off command/{cmd}"
BOTO = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79-99.167.amzn2023.x86_64 md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
)
GO = "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/{service}#1.40.1 ft/sdk-waiter"
TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 "
    "md/GOOS#linux md/GOARCH#amd64 api/{service}#1.150.0"
)
KARPENTER = "karpenter.sh-v0.35.2 aws-sdk-go/1.50.25 (go1.22.1; linux; amd64)"
CONSOLE = "AWS Internal"
KUBELET = "aws-sdk-go/1.44.330 (go1.20.12; linux; amd64) amazon-ecr-credential-helper"

PUBLIC = ("203.0.113.", "198.51.100.", "192.0.2.")

ROLES = (
    ("AWSReservedSSO_PlatformAdmin_4f1c2b7a9d3e5f60", _people, (CLI, CONSOLE, TERRAFORM), PUBLIC),
    ("AWSReservedSSO_ReadOnly_9a8b7c6d5e4f3a2b", _people, (CLI, CONSOLE), PUBLIC),
    ("github-actions-deploy", _fixed("GitHubActions"), (TERRAFORM, CLI), ("4.175.114.", "20.57.79.", "52.238.25.")),
    ("eks-prod-node-role", _nodes, (KUBELET, GO), ("10.20.", "10.21.")),
    ("KarpenterControllerRole-prod", _fixed("1793491230123456789"), (KARPENTER,), ("10.20.",)),
    ("ExternalSecretsRole", _fixed("external-secrets-provider-aws"), (GO,), ("10.20.", "10.21.")),
    ("DataPipelineBatch", _fixed("botocore-session-1793491200"), (BOTO,), ("10.30.",)),
)


class World:
    """Makes records. Every random draw comes from one seeded generator, so the data is the same
    on every machine and in every run."""

    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.accounts = {a: Account(self.rng, a) for a in ACCOUNTS}
        self._cumulative = list(itertools.accumulate(weight for _, weight, _ in CALLS))

    # Small random helpers.
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def upper(self, n: int) -> str:
        return "".join(self.rng.choices(UPPER, k=n))

    def pick(self, items):
        return items[self.rng.randrange(len(items))]

    def ip(self, prefix: str) -> str:
        parts = 4 - prefix.count(".")
        return prefix + ".".join(str(self.rng.randrange(1, 255)) for _ in range(parts))

    def record(self, account: str | None = None, region: str | None = None, t: float | None = None) -> dict:
        """One record; account, region and time drawn when not given."""
        rng = self.rng
        acct = self.accounts[account or self.pick(ACCOUNTS)]
        region = region or self.pick(REGIONS)
        t = START + rng.random() * DAYS * 86400 if t is None else t
        index = bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
        _, _, make = CALLS[min(index, len(CALLS) - 1)]
        call = Call(self, acct, region, t)
        make(call)
        return call.build()


class Call:
    """One record being made: a builder sets source, name, request, response and extras."""

    def __init__(self, world: World, account: Account, region: str, t: float):
        self.w = world
        self.a = account
        self.region = region
        self.t = t
        self.source = ""
        self.name = ""
        self.read_only = True
        self.request: dict | None = None
        self.response: dict | None = None
        self.extra: dict = {}
        self.error: tuple[str, str] | None = None
        self.role = None
        self.category = "Management"
        self.management = True
        self.resources: list | None = None
        self.agent_service = ""
        self.cli_command = ""

    def use_role(self, *names: str) -> None:
        """Prefer one of these roles (by name prefix) as the caller."""
        roles = [r for r in self.a.roles if r[0].startswith(names)]
        self.role = self.w.pick(roles)

    def build(self) -> dict:
        w, rng, a = self.w, self.w.rng, self.a
        if self.role is None:
            self.role = w.pick(a.roles)
        role, principal, sessions, agents, sources, keys = self.role
        session = w.pick(sessions)
        agent = w.pick(agents)
        service = self.source.split(".")[0]
        if agent is CLI:
            agent = CLI.format(cmd=f"{service}.{self.cli_command or _kebab(self.name)}")
        elif "{service}" in agent:
            agent = agent.format(service=service)
        if agent is CONSOLE:
            source_ip = f"{service}.amazonaws.com" if rng.random() < 0.3 else w.ip(w.pick(PUBLIC))
        else:
            source_ip = w.ip(w.pick(sources))
        region = "us-east-1" if service == "iam" else self.region
        host = f"{service}.amazonaws.com" if service == "iam" else f"{service}.{region}.amazonaws.com"
        path = "aws-reserved/sso.amazonaws.com/" if role.startswith("AWSReservedSSO") else ""
        record = {
            "eventVersion": "1.09" if rng.random() < 0.7 else "1.08",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": f"{principal}:{session}",
                "arn": f"arn:aws:sts::{a.id}:assumed-role/{role}/{session}",
                "accountId": a.id,
                "accessKeyId": w.pick(keys),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": principal,
                        "arn": f"arn:aws:iam::{a.id}:role/{path}{role}",
                        "accountId": a.id,
                        "userName": role,
                    },
                    "attributes": {"creationDate": iso(self.t - rng.randrange(30, 3600)), "mfaAuthenticated": "false"},
                },
            },
            "eventTime": iso(self.t),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": region,
            "sourceIPAddress": source_ip,
            "userAgent": agent,
        }
        if self.error:
            record["errorCode"], message = self.error
            record["errorMessage"] = message.format(
                arn=record["userIdentity"]["arn"], action=f"{service}:{self.name}", account=a.id
            )
        record["requestParameters"] = self.request
        record["responseElements"] = None if self.error else self.response
        record.update(self.extra)
        record["requestID"] = w.uuid() if service != "s3" else w.upper(16)
        record["eventID"] = w.uuid()
        record["readOnly"] = self.read_only
        if self.resources is not None:
            record["resources"] = self.resources
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = self.management
        record["recipientAccountId"] = a.id
        record["eventCategory"] = self.category
        tls13 = rng.random() < 0.8
        record["tlsDetails"] = {
            "tlsVersion": "TLSv1.3" if tls13 else "TLSv1.2",
            "cipherSuite": "TLS_AES_128_GCM_SHA256" if tls13 else "ECDHE-RSA-AES128-GCM-SHA256",
            "clientProvidedHostHeader": (self.request or {}).get("Host", host),
        }
        if agent == CONSOLE:
            record["sessionCredentialFromConsole"] = "true"
        return record


def _kebab(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def _write(c: Call, source: str, name: str) -> tuple[World, Account]:
    """Makes c a write (readOnly false) of this event source and name; returns the world and the
    account to draw from."""
    c.source, c.name = source, name
    c.read_only = False
    return c.w, c.a


def _s3_data(w: World, transferred_out: range) -> dict:
    """The additionalEventData of an S3 call, bytesTransferredOut drawn from the range."""
    return {
        "additionalEventData": {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": w.upper(40) + "=",
            "bytesTransferredOut": w.rng.randrange(transferred_out.start, transferred_out.stop),
        }
    }


def _ecr_repository(c: Call, repo: str) -> list[dict]:
    """The resources of an ECR call on one repository."""
    return [{"accountId": c.a.id, "ARN": f"arn:aws:ecr:{c.region}:{c.a.id}:repository/{repo}"}]


def _items(key: str, values: list) -> dict:
    return {"items": [{key: v} for v in values]}


def _filters(*pairs: tuple[str, list[str]]) -> dict:
    return {"items": [{"name": n, "valueSet": {"items": [{"value": v} for v in vs]}} for n, vs in pairs]}


# -- reads ----------------------------------------------------------------------------------------


def describe_instances(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeInstances"
    w, a = c.w, c.a
    if w.rng.random() < 0.5:
        ids = [w.pick(a.instances) for _ in range(w.rng.randrange(1, 6))]
        c.request = {"instancesSet": _items("instanceId", ids), "filterSet": {}}
    else:
        c.request = {
            "instancesSet": {},
            "filterSet": _filters(
                ("tag:eks:cluster-name", [w.pick(a.clusters)]), ("instance-state-name", ["pending", "running"])
            ),
        }
        if w.rng.random() < 0.5:
            c.request["maxResults"] = 1000
    c.use_role("eks-prod", "Karpenter", "AWSReservedSSO", "github")


def describe_security_groups(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeSecurityGroups"
    w, a = c.w, c.a
    ids = [w.pick(a.groups) for _ in range(w.rng.randrange(1, 4))]
    c.request = {"securityGroupSet": {}, "securityGroupIdSet": _items("groupId", ids), "filterSet": {}}
    if w.rng.random() < 0.3:
        c.request = {
            "securityGroupSet": {},
            "securityGroupIdSet": {},
            "filterSet": _filters(("vpc-id", [w.pick(a.vpcs)])),
        }


def describe_network_interfaces(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeNetworkInterfaces"
    w, a = c.w, c.a
    c.request = {
        "networkInterfaceIdSet": _items("networkInterfaceId", [w.pick(a.enis)]) if w.rng.random() < 0.5 else {},
        "filterSet": _filters(("attachment.instance-id", [w.pick(a.instances)])) if w.rng.random() < 0.5 else {},
    }
    c.use_role("eks-prod", "Karpenter")


def describe_subnets(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeSubnets"
    w, a = c.w, c.a
    c.request = {
        "subnetSet": {},
        "filterSet": _filters(("vpc-id", [w.pick(a.vpcs)]), ("tag:kubernetes.io/role/internal-elb", ["1"])),
    }


def describe_vpcs(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeVpcs"
    c.request = {"vpcSet": _items("vpcId", [c.w.pick(c.a.vpcs)]), "filterSet": {}}


def describe_tags(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeTags"
    c.request = {"filterSet": _filters(("resource-id", [c.w.pick(c.a.instances)]))}


def describe_regions(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeRegions"
    c.request = {"regionSet": {}, "allRegions": False}


def describe_volumes(c: Call) -> None:
    c.source, c.name = "ec2.amazonaws.com", "DescribeVolumes"
    c.request = {"volumeSet": _items("volumeId", [c.w.pick(c.a.volumes)]), "filterSet": {}}
    c.use_role("eks-prod")


def get_object(c: Call) -> None:
    c.source, c.name = "s3.amazonaws.com", "GetObject"
    w, a = c.w, c.a
    bucket = w.pick(a.buckets)
    folder = w.pick(["releases", "exports", "raw/events", "checkpoints"])
    name = w.pick(["part-00000.parquet", "build.tar.gz", "model.bin", "manifest.json"])
    key = f"{folder}/2026/11/{w.hexid(8)}/{name}"
    c.request = {"bucketName": bucket, "Host": f"{bucket}.s3.{c.region}.amazonaws.com", "key": key}
    c.extra = _s3_data(w, range(200, 50_000_000))
    c.resources = [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
        {"accountId": a.id, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]
    c.category, c.management = "Data", False
    c.use_role("DataPipeline", "github", "eks-prod")


def list_buckets(c: Call) -> None:
    c.source, c.name = "s3.amazonaws.com", "ListBuckets"
    c.request = {"Host": f"s3.{c.region}.amazonaws.com"}
    c.extra = _s3_data(c.w, range(300, 4000))
    c.cli_command = "ls"


def get_caller_identity(c: Call) -> None:
    c.source, c.name = "sts.amazonaws.com", "GetCallerIdentity"


def assume_role(c: Call) -> None:
    w, a = _write(c, "sts.amazonaws.com", "AssumeRole")
    target = w.pick(["ExternalSecretsRole", "DataPipelineBatch", "eks-prod-ebs-csi-driver", "cross-account-audit"])
    session = w.pick(["external-secrets-provider-aws", "botocore-session-1793491200", "1793491230987654321", "audit"])
    role_id = "AROA" + w.upper(17)
    c.request = {"roleArn": f"arn:aws:iam::{a.id}:role/{target}", "roleSessionName": session, "durationSeconds": 3600}
    c.response = {
        "credentials": {
            "accessKeyId": "ASIA" + w.upper(16),
            "sessionToken": "IQoJb3JpZ2luX2VjE" + "".join(w.rng.choices(ALNUM, k=380)),
            "expiration": console_time(c.t + 3600),
        },
        "assumedRoleUser": {
            "assumedRoleId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{a.id}:assumed-role/{target}/{session}",
        },
    }
    c.resources = [{"accountId": a.id, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{a.id}:role/{target}"}]
    c.extra = {"sharedEventID": w.uuid()}


def get_role(c: Call) -> None:
    c.source, c.name = "iam.amazonaws.com", "GetRole"
    c.request = {
        "roleName": c.w.pick(
            ["eks-prod-node-role", "KarpenterControllerRole-prod", "github-actions-deploy", "eks-prod-cluster-role"]
        )
    }
    c.use_role("github", "AWSReservedSSO")


def kms_decrypt(c: Call) -> None:
    c.source, c.name = "kms.amazonaws.com", "Decrypt"
    w, a = c.w, c.a
    key = f"arn:aws:kms:{c.region}:{a.id}:key/{w.pick(a.keys)}"
    if w.rng.random() < 0.5:
        c.request = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:ebs:id": w.pick(a.volumes)}}
    else:
        c.request = {
            "keyId": key,
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {
                "SecretARN": f"arn:aws:secretsmanager:{c.region}:{a.id}:secret:prod/api-{w.upper(6)}",
                "SecretVersionId": w.uuid(),
            },
        }
    c.resources = [{"accountId": a.id, "type": "AWS::KMS::Key", "ARN": key}]


def kms_generate_data_key(c: Call) -> None:
    c.source, c.name = "kms.amazonaws.com", "GenerateDataKey"
    w, a = c.w, c.a
    key = f"arn:aws:kms:{c.region}:{a.id}:key/{w.pick(a.keys)}"
    c.request = {
        "keyId": key,
        "keySpec": "AES_256",
        "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{w.pick(a.buckets)}"},
    }
    c.resources = [{"accountId": a.id, "type": "AWS::KMS::Key", "ARN": key}]


def eks_describe_cluster(c: Call) -> None:
    c.source, c.name = "eks.amazonaws.com", "DescribeCluster"
    c.request = {"name": c.w.pick(c.a.clusters)}


def eks_list_clusters(c: Call) -> None:
    c.source, c.name = "eks.amazonaws.com", "ListClusters"
    c.request = {"maxResults": 100} if c.w.rng.random() < 0.5 else None


def eks_describe_nodegroup(c: Call) -> None:
    c.source, c.name = "eks.amazonaws.com", "DescribeNodegroup"
    c.request = {"name": c.w.pick(c.a.clusters), "nodegroupName": c.w.pick(["system", "general-purpose", "gpu"])}
    c.use_role("Karpenter", "github", "AWSReservedSSO")


def ecr_token(c: Call) -> None:
    c.source, c.name = "ecr.amazonaws.com", "GetAuthorizationToken"
    c.request = {"registryIds": [c.a.id]} if c.w.rng.random() < 0.3 else None
    c.use_role("eks-prod", "github")


def ecr_batch_get_image(c: Call) -> None:
    c.source, c.name = "ecr.amazonaws.com", "BatchGetImage"
    w, a = c.w, c.a
    repo = w.pick(a.repositories)
    c.request = {
        "imageIds": [{"imageTag": f"v1.{w.rng.randrange(40)}.{w.rng.randrange(10)}"}],
        "acceptedMediaTypes": [
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
        ],
        "repositoryName": repo,
        "registryId": a.id,
    }
    c.resources = _ecr_repository(c, repo)
    c.use_role("eks-prod")


def ecr_download_url(c: Call) -> None:
    c.source, c.name = "ecr.amazonaws.com", "GetDownloadUrlForLayer"
    w, a = c.w, c.a
    repo = w.pick(a.repositories)
    c.request = {"repositoryName": repo, "registryId": a.id, "layerDigest": "sha256:" + w.hexid(64)}
    c.resources = _ecr_repository(c, repo)
    c.use_role("eks-prod")


def logs_describe(c: Call) -> None:
    c.source, c.name = "logs.amazonaws.com", "DescribeLogGroups"
    c.request = {"logGroupNamePrefix": c.w.pick(c.a.log_groups)}


def ssm_get_parameter(c: Call) -> None:
    c.source, c.name = "ssm.amazonaws.com", "GetParameter"
    c.request = {"name": c.w.pick(c.a.parameters), "withDecryption": True}
    c.use_role("ExternalSecrets", "DataPipeline")


# -- writes no rule listens to, and failed calls ---------------------------------------------------


def create_tags(c: Call) -> None:
    w, a = _write(c, "ec2.amazonaws.com", "CreateTags")
    c.request = {
        "resourcesSet": _items("resourceId", [w.pick(a.instances), w.pick(a.volumes)]),
        "tagSet": {
            "items": [
                {"key": "karpenter.sh/nodeclaim", "value": f"general-purpose-{w.hexid(5)}"},
                {"key": "Name", "value": "general-purpose"},
            ]
        },
    }
    c.response = {"requestId": w.uuid(), "_return": True}
    c.use_role("Karpenter")


def create_network_interface(c: Call) -> None:
    w, a = _write(c, "ec2.amazonaws.com", "CreateNetworkInterface")
    subnet, group, eni = w.pick(a.subnets), w.pick(a.groups), f"eni-0{w.hexid(16)}"
    ip = w.ip("10.20.")
    c.request = {
        "subnetId": subnet,
        "description": "aws-K8S-" + w.pick(a.instances),
        "groupSet": _items("groupId", [group]),
        "privateIpAddressesSet": {},
        "clientToken": w.uuid(),
    }
    c.response = {
        "requestId": w.uuid(),
        "networkInterface": {
            "networkInterfaceId": eni,
            "subnetId": subnet,
            "vpcId": w.pick(a.vpcs),
            "availabilityZone": f"{c.region}{w.pick('abc')}",
            "description": "aws-K8S-" + w.pick(a.instances),
            "ownerId": a.id,
            "requesterManaged": False,
            "status": "pending",
            "macAddress": ":".join(f"{w.rng.randrange(256):02x}" for _ in range(6)),
            "privateIpAddress": ip,
            "sourceDestCheck": True,
            "interfaceType": "interface",
            "groupSet": {"items": [{"groupId": group, "groupName": "eks-cluster-sg-prod"}]},
            "privateIpAddressesSet": {"item": [{"privateIpAddress": ip, "primary": True}]},
            "ipv6AddressesSet": {},
            "tagSet": {},
        },
    }
    c.use_role("eks-prod")


def delete_network_interface(c: Call) -> None:
    _write(c, "ec2.amazonaws.com", "DeleteNetworkInterface")
    c.request = {"networkInterfaceId": c.w.pick(c.a.enis)}
    c.response = {"requestId": c.w.uuid(), "_return": True}
    c.use_role("eks-prod")


def create_log_stream(c: Call) -> None:
    _write(c, "logs.amazonaws.com", "CreateLogStream")
    c.request = {"logGroupName": c.w.pick(c.a.log_groups), "logStreamName": f"kube-apiserver-{c.w.hexid(32)}"}


def put_parameter(c: Call) -> None:
    _write(c, "ssm.amazonaws.com", "PutParameter")
    c.request = {"name": c.w.pick(c.a.parameters), "type": "SecureString", "overwrite": True, "keyId": "alias/aws/ssm"}
    c.response = {"version": c.w.rng.randrange(1, 40), "tier": "Standard"}
    c.use_role("github", "AWSReservedSSO_Platform")


def put_object(c: Call) -> None:
    get_object(c)
    c.name = "PutObject"
    c.read_only = False
    c.request["x-amz-server-side-encryption"] = "aws:kms"
    c.response = {
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": f"arn:aws:kms:{c.region}:{c.a.id}:key/{c.w.pick(c.a.keys)}",
        "x-amz-version-id": c.w.upper(32),
    }
    c.extra["additionalEventData"]["bytesTransferredIn"] = c.extra["additionalEventData"].pop("bytesTransferredOut")
    c.extra["additionalEventData"]["bytesTransferredOut"] = 0


def create_security_group(c: Call) -> None:
    w, a = _write(c, "ec2.amazonaws.com", "CreateSecurityGroup")
    name = f"k8s-elb-{w.hexid(8)}"
    c.request = {"groupName": name, "groupDescription": "Security group for Kubernetes ELB", "vpcId": w.pick(a.vpcs)}
    c.response = {
        "requestId": w.uuid(),
        "_return": True,
        "groupId": f"sg-0{w.hexid(16)}",
        "securityGroupArn": f"arn:aws:ec2:{c.region}:{a.id}:security-group/sg-0{w.hexid(16)}",
    }
    c.use_role("github", "AWSReservedSSO_Platform")


def revoke_ingress(c: Call) -> None:
    w, _ = _write(c, "ec2.amazonaws.com", "RevokeSecurityGroupIngress")
    c.request = {"groupId": w.pick(c.a.groups), "ipPermissions": {"items": [_permission(22, "10.0.0.0/8")]}}
    c.response = {
        "requestId": w.uuid(),
        "_return": True,
        "revokedSecurityGroupRuleSet": {
            "items": [
                {
                    "groupId": c.request["groupId"],
                    "securityGroupRuleId": f"sgr-0{w.hexid(16)}",
                    "isEgress": False,
                    "ipProtocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "cidrIpv4": "10.0.0.0/8",
                }
            ]
        },
    }
    c.use_role("github", "AWSReservedSSO_Platform")


def put_image(c: Call) -> None:
    w, a = _write(c, "ecr.amazonaws.com", "PutImage")
    repo = w.pick(a.repositories)
    digest = "sha256:" + w.hexid(64)
    tag = f"v1.{w.rng.randrange(40)}.{w.rng.randrange(10)}"
    c.request = {
        "repositoryName": repo,
        "imageTag": tag,
        "registryId": a.id,
        "imageManifest": '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}',
        "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
    }
    c.response = {
        "image": {
            "registryId": a.id,
            "repositoryName": repo,
            "imageId": {"imageDigest": digest, "imageTag": tag},
            "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
        }
    }
    c.resources = _ecr_repository(c, repo)
    c.use_role("github")


def tag_eks(c: Call) -> None:
    _write(c, "eks.amazonaws.com", "TagResource")
    c.request = {
        "resourceArn": f"arn:aws:eks:{c.region}:{c.a.id}:cluster/{c.w.pick(c.a.clusters)}",
        "tags": {"team": "platform", "cost-center": "1234"},
    }
    c.use_role("github")


UNAUTHORIZED = (
    "You are not authorized to perform this operation. User: {arn} is not authorized to perform: {action} "
    "because no identity-based policy allows the {action} action. Encoded authorization failure message: "
)
DENIED = (
    "User: {arn} is not authorized to perform: {action} on resource: arn:aws:iam::{account}:role/eks-prod-node-role "
    "because no identity-based policy allows the {action} action"
)


def _failed(make: Callable[[Call], None], code: str) -> Callable[[Call], None]:
    def failed(c: Call) -> None:
        make(c)
        message = (
            UNAUTHORIZED + "".join(c.w.rng.choices(ALNUM, k=300)) if code == "Client.UnauthorizedOperation" else DENIED
        )
        c.error = (code, message)
        c.role = None
        c.use_role("AWSReservedSSO_ReadOnly", "ExternalSecrets", "DataPipeline")

    return failed


def put_role_policy(c: Call) -> None:
    _write(c, "iam.amazonaws.com", "PutRolePolicy")
    c.request = {
        "roleName": "eks-prod-node-role",
        "policyName": "extra-s3",
        "policyDocument": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
    }


def delete_bucket_policy(c: Call) -> None:
    _write(c, "s3.amazonaws.com", "DeleteBucketPolicy")
    bucket = c.w.pick(c.a.buckets)
    c.request = {"bucketName": bucket, "Host": f"{bucket}.s3.{c.region}.amazonaws.com", "policy": ""}


# -- writes the rules judge (some harmless) -------------------------------------------------------


def _permission(port: int, cidr: str, ipv6: bool = False) -> dict:
    ranges = {"items": [{"cidrIpv6": cidr}]} if ipv6 else {"items": [{"cidrIp": cidr}]}
    return {
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "groups": {},
        "ipRanges": {} if ipv6 else ranges,
        "ipv6Ranges": ranges if ipv6 else {},
        "prefixListIds": {},
    }


def authorize_ingress(c: Call) -> None:
    w, a = _write(c, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress")
    port, cidr, ipv6 = w.pick(
        [
            (22, "0.0.0.0/0", False),
            (22, "0.0.0.0/0", False),
            (443, "0.0.0.0/0", False),
            (22, "::/0", True),
            (10250, "0.0.0.0/0", False),
            (443, "10.0.0.0/8", False),
            (22, "203.0.113.0/24", False),
            (80, "0.0.0.0/0", False),
            (8080, "10.20.0.0/16", False),
        ]
    )
    group = w.pick(a.groups)
    c.request = {"groupId": group, "ipPermissions": {"items": [_permission(port, cidr, ipv6)]}}
    rule = {
        "groupOwnerId": a.id,
        "groupId": group,
        "securityGroupRuleId": f"sgr-0{w.hexid(16)}",
        "isEgress": False,
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
    }
    rule["cidrIpv6" if ipv6 else "cidrIpv4"] = cidr
    c.response = {"requestId": w.uuid(), "_return": True, "securityGroupRuleSet": {"items": [rule]}}
    c.use_role("AWSReservedSSO_PlatformAdmin", "github")
    c.cli_command = "authorize-security-group-ingress"


def update_cluster_config(c: Call) -> None:
    w, a = _write(c, "eks.amazonaws.com", "UpdateClusterConfig")
    cluster = w.pick(a.clusters)
    kind = w.rng.random()
    if kind < 0.6:
        c.request = {
            "name": cluster,
            "resourcesVpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
        }
        params = [
            {"type": "EndpointPublicAccess", "value": "true"},
            {"type": "PublicAccessCidrs", "value": '["0.0.0.0/0"]'},
        ]
        update = "EndpointAccessUpdate"
    elif kind < 0.8:
        c.request = {
            "name": cluster,
            "resourcesVpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
        }
        params = [
            {"type": "EndpointPublicAccess", "value": "false"},
            {"type": "EndpointPrivateAccess", "value": "true"},
        ]
        update = "EndpointAccessUpdate"
    else:
        c.request = {
            "name": cluster,
            "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": False}]},
        }
        params = [
            {
                "type": "ClusterLogging",
                "value": '{"clusterLogging":[{"types":["api","audit","authenticator"],"enabled":false}]}',
            }
        ]
        update = "LoggingUpdate"
    c.request["clientRequestToken"] = w.uuid()
    c.response = {
        "update": {
            "id": w.uuid(),
            "status": "InProgress",
            "type": update,
            "params": params,
            "createdAt": iso(c.t),
            "errors": [],
        }
    }
    c.use_role("AWSReservedSSO_PlatformAdmin", "github")


def modify_metadata_options(c: Call) -> None:
    w, a = _write(c, "ec2.amazonaws.com", "ModifyInstanceMetadataOptions")
    instance = w.pick(a.instances)
    tokens = "optional" if w.rng.random() < 0.65 else "required"
    c.request = {"ModifyInstanceMetadataOptionsRequest": {"HttpTokens": tokens, "InstanceId": instance}}
    c.response = {
        "ModifyInstanceMetadataOptionsResponse": {
            "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
            "requestId": w.uuid(),
            "instanceId": instance,
            "instanceMetadataOptions": {
                "state": "pending",
                "httpTokens": tokens,
                "httpPutResponseHopLimit": 2,
                "httpEndpoint": "enabled",
                "httpProtocolIpv6": "disabled",
                "instanceMetadataTags": "disabled",
            },
        }
    }
    c.use_role("AWSReservedSSO_PlatformAdmin")


def modify_subnet(c: Call) -> None:
    _write(c, "ec2.amazonaws.com", "ModifySubnetAttribute")
    c.request = {"subnetId": c.w.pick(c.a.subnets), "mapPublicIpOnLaunch": {"value": c.w.rng.random() < 0.7}}
    c.response = {"requestId": c.w.uuid(), "_return": True}
    c.use_role("github", "AWSReservedSSO_PlatformAdmin")


def run_instances(c: Call) -> None:
    w, a = _write(c, "ec2.amazonaws.com", "RunInstances")
    tokens = "optional" if w.rng.random() < 0.5 else "required"
    instance, subnet, group, ami = f"i-0{w.hexid(16)}", w.pick(a.subnets), w.pick(a.groups), w.pick(a.amis)
    ip = w.ip("10.20.")
    c.request = {
        "instancesSet": {"items": [{"imageId": ami, "minCount": 1, "maxCount": 1}]},
        "instanceType": w.pick(["m6i.large", "m7i.xlarge", "c6i.2xlarge"]),
        "blockDeviceMapping": {
            "items": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {"volumeSize": 80, "deleteOnTermination": True, "volumeType": "gp3", "encrypted": True},
                }
            ]
        },
        "monitoring": {"enabled": False},
        "disableApiTermination": False,
        "disableApiStop": False,
        "clientToken": w.uuid(),
        "networkInterfaceSet": {
            "items": [{"deviceIndex": 0, "subnetId": subnet, "groupSet": _items("groupId", [group])}]
        },
        "iamInstanceProfile": {"arn": f"arn:aws:iam::{a.id}:instance-profile/eks-prod-node-profile"},
        "metadataOptions": {"httpTokens": tokens, "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"},
        "tagSpecificationSet": {
            "items": [
                {
                    "resourceType": "instance",
                    "tags": [
                        {"key": "eks:cluster-name", "value": "prod"},
                        {"key": "Name", "value": "prod-general-purpose"},
                    ],
                }
            ]
        },
    }
    c.response = {
        "requestId": w.uuid(),
        "reservationId": f"r-0{w.hexid(16)}",
        "ownerId": a.id,
        "groupSet": {},
        "instancesSet": {
            "items": [
                {
                    "instanceId": instance,
                    "imageId": ami,
                    "currentInstanceBootMode": "legacy-bios",
                    "instanceState": {"code": 0, "name": "pending"},
                    "privateDnsName": f"ip-{ip.replace('.', '-')}.{c.region}.compute.internal",
                    "amiLaunchIndex": 0,
                    "productCodes": {},
                    "instanceType": c.request["instanceType"],
                    "launchTime": int(c.t * 1000),
                    "placement": {"availabilityZone": f"{c.region}a", "tenancy": "default"},
                    "monitoring": {"state": "disabled"},
                    "subnetId": subnet,
                    "vpcId": w.pick(a.vpcs),
                    "privateIpAddress": ip,
                    "stateReason": {"code": "pending", "message": "pending"},
                    "architecture": "x86_64",
                    "rootDeviceType": "ebs",
                    "rootDeviceName": "/dev/xvda",
                    "blockDeviceMapping": {},
                    "virtualizationType": "hvm",
                    "hypervisor": "xen",
                    "groupSet": {"items": [{"groupId": group, "groupName": "eks-cluster-sg-prod"}]},
                    "sourceDestCheck": True,
                    "networkInterfaceSet": {
                        "items": [
                            {
                                "networkInterfaceId": f"eni-0{w.hexid(16)}",
                                "subnetId": subnet,
                                "status": "in-use",
                                "privateIpAddress": ip,
                            }
                        ]
                    },
                    "ebsOptimized": True,
                    "enaSupport": True,
                    "cpuOptions": {"coreCount": 1, "threadsPerCore": 2},
                    "capacityReservationSpecification": {"capacityReservationPreference": "open"},
                    "enclaveOptions": {"enabled": False},
                    "metadataOptions": {
                        "state": "pending",
                        "httpTokens": tokens,
                        "httpPutResponseHopLimit": 2,
                        "httpEndpoint": "enabled",
                        "httpProtocolIpv4": "enabled",
                        "httpProtocolIpv6": "disabled",
                        "instanceMetadataTags": "disabled",
                    },
                    "maintenanceOptions": {"autoRecovery": "default"},
                    "privateDnsNameOptions": {
                        "hostnameType": "ip-name",
                        "enableResourceNameDnsARecord": False,
                        "enableResourceNameDnsAAAARecord": False,
                    },
                }
            ]
        },
        "requesterId": "",
    }
    c.use_role("Karpenter", "github")


def create_repository(c: Call) -> None:
    w, a = _write(c, "ecr.amazonaws.com", "CreateRepository")
    name = f"team-{w.hexid(4)}/service"
    mutability = w.pick(["MUTABLE", "IMMUTABLE"])
    scan = w.rng.random() < 0.5
    c.request = {
        "repositoryName": name,
        "imageTagMutability": mutability,
        "imageScanningConfiguration": {"scanOnPush": scan},
        "encryptionConfiguration": {"encryptionType": "KMS"},
    }
    c.response = {
        "repository": {
            "repositoryArn": f"arn:aws:ecr:{c.region}:{a.id}:repository/{name}",
            "registryId": a.id,
            "repositoryName": name,
            "repositoryUri": f"{a.id}.dkr.ecr.{c.region}.amazonaws.com/{name}",
            "createdAt": console_time(c.t),
            "imageTagMutability": mutability,
            "imageScanningConfiguration": {"scanOnPush": scan},
            "encryptionConfiguration": {
                "encryptionType": "KMS",
                "kmsKey": f"arn:aws:kms:{c.region}:{a.id}:key/{w.pick(a.keys)}",
            },
        }
    }
    c.use_role("github")


# (category, weight in percent, builder). Categories: "read" (readOnly true, or AssumeRole on STS,
# which no rule listens to), "other" (writes no rule listens to, and failed calls), "judged".
CALLS: list[tuple[str, float, Callable[[Call], None]]] = [
    ("read", 13.0, describe_instances),
    ("read", 7.0, describe_security_groups),
    ("read", 5.0, describe_network_interfaces),
    ("read", 3.0, describe_subnets),
    ("read", 1.5, describe_vpcs),
    ("read", 3.0, describe_tags),
    ("read", 1.5, describe_regions),
    ("read", 2.0, describe_volumes),
    ("read", 8.0, get_object),
    ("read", 1.5, list_buckets),
    ("read", 7.0, get_caller_identity),
    ("read", 6.0, assume_role),
    ("read", 2.5, get_role),
    ("read", 7.0, kms_decrypt),
    ("read", 1.5, kms_generate_data_key),
    ("read", 5.0, eks_describe_cluster),
    ("read", 1.5, eks_list_clusters),
    ("read", 1.5, eks_describe_nodegroup),
    ("read", 3.0, ecr_token),
    ("read", 4.0, ecr_batch_get_image),
    ("read", 3.0, ecr_download_url),
    ("read", 1.0, logs_describe),
    ("read", 2.5, ssm_get_parameter),
    ("other", 1.5, create_tags),
    ("other", 1.0, create_network_interface),
    ("other", 1.0, delete_network_interface),
    ("other", 1.0, create_log_stream),
    ("other", 0.3, put_parameter),
    ("other", 1.0, put_object),
    ("other", 0.2, create_security_group),
    ("other", 0.2, revoke_ingress),
    ("other", 0.3, put_image),
    ("other", 0.2, tag_eks),
    ("other", 1.0, _failed(describe_instances, "Client.UnauthorizedOperation")),
    ("other", 0.3, _failed(authorize_ingress, "Client.UnauthorizedOperation")),
    ("other", 0.2, _failed(update_cluster_config, "AccessDeniedException")),
    ("other", 0.3, _failed(put_role_policy, "AccessDenied")),
    ("other", 0.3, _failed(delete_bucket_policy, "AccessDenied")),
    ("other", 0.2, _failed(create_tags, "Client.UnauthorizedOperation")),
    ("judged", 0.45, authorize_ingress),
    ("judged", 0.15, update_cluster_config),
    ("judged", 0.15, modify_metadata_options),
    ("judged", 0.1, modify_subnet),
    ("judged", 0.1, run_instances),
    ("judged", 0.05, create_repository),
]


# -- files ----------------------------------------------------------------------------------------


def _dump(record: dict) -> str:
    return json.dumps(record, separators=COMPACT)


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    partial = path.with_name(path.name + ".partial")
    write(partial)
    partial.replace(path)


def write_trail(world: World, path: Path, target_bytes: int) -> list[str]:
    """~target_bytes of records as one `{"Records":[...]}` line, in time order. Returns the
    serialized records (the JSON Lines file repeats them)."""
    timed: list[tuple[str, str]] = []
    size = len('{"Records":[]}')
    while size < target_bytes:
        record = world.record()
        text = _dump(record)
        timed.append((record["eventTime"], text))
        size += len(text) + 1
    timed.sort(key=lambda pair: pair[0])
    records = [text for _, text in timed]

    def write(partial: Path) -> None:
        with partial.open("w") as f:
            f.write('{"Records":[')
            f.write(",".join(records))
            f.write("]}")

    _write_atomic(path, write)
    return records


def write_gzip(source: Path, path: Path) -> None:
    def write(partial: Path) -> None:
        with source.open("rb") as f, gzip.open(partial, "wb", compresslevel=6) as out:
            while chunk := f.read(1 << 20):
                out.write(chunk)

    _write_atomic(path, write)


EVENT_ID = '"eventID":"'


def write_jsonl(world: World, records: list[str], path: Path, target_bytes: int) -> int:
    """The trail's records, one per line, repeated with fresh eventIDs until ~target_bytes;
    streamed to disk. Returns the number of lines."""
    lines = 0

    def write(partial: Path) -> None:
        nonlocal lines
        size = 0
        with partial.open("w", buffering=1 << 20) as f:
            while size < target_bytes:
                batch = []
                for text in records:
                    at = text.index(EVENT_ID) + len(EVENT_ID)
                    batch.append(text[:at] + world.uuid() + text[at + 36 :])
                    size += len(text) + 1
                    lines += 1
                    if size >= target_bytes:
                        break
                f.write("\n".join(batch))
                f.write("\n")

    _write_atomic(path, write)
    return lines


def write_objects(world: World, root: Path, count: int) -> tuple[int, int, int]:
    """count small gzipped trail files in an organization trail's key layout under root.
    Returns (records, uncompressed bytes, compressed bytes)."""
    rng = world.rng
    combos = [(a, r, d) for a in ACCOUNTS for r in REGIONS for d in range(DAYS)]
    per = [count // len(combos)] * len(combos)
    for i in range(count - sum(per)):
        per[i] += 1
    records = raw = packed = 0
    for (account, region, day), n in zip(combos, per):
        folder = root / "AWSLogs" / ORG / account / "CloudTrail" / region / "2026" / "11" / f"{day + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        # Delivery times spread over the day; each file holds the 5 minutes before its delivery.
        deliveries = sorted(START + day * 86400 + 300 + rng.randrange(86400 - 300) for _ in range(n))
        for delivered in deliveries:
            stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(delivered))
            unique = "".join(rng.choices(ALNUM, k=16))
            name = f"{account}_CloudTrail_{region}_{stamp}_{unique}.json.gz"
            k = rng.randint(*OBJECT_RECORDS)
            batch = [world.record(account, region, delivered - 300 + rng.random() * 300) for _ in range(k)]
            text = '{"Records":[' + ",".join(_dump(r) for r in batch) + "]}"
            body = gzip.compress(text.encode(), compresslevel=6, mtime=0)
            (folder / name).write_bytes(body)
            records += k
            raw += len(text)
            packed += len(body)
    return records, raw, packed


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def ensure(directory: Path, log: Callable[[str], None]) -> dict:
    """The four inputs under directory, generated when missing or made by other code. Returns the
    manifest: paths (relative to directory), sizes and record counts."""
    manifest_path = directory / "manifest.json"
    key = version_key()
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        present = all((directory / manifest[name]["path"]).exists() for name in ("trail", "gzip", "jsonl", "objects"))
        if manifest.get("version") == key and present:
            log(f"reusing the data in {_shown(directory)} (delete it to regenerate)")
            return manifest

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    free = shutil.disk_usage(directory).free
    needed = TRAIL_BYTES + JSONL_BYTES + 600_000_000
    if free < needed * 1.5:
        raise SystemExit(
            f"not enough disk space in {directory}: {free / 1e9:.1f} GB free, about {needed / 1e9:.1f} GB needed"
        )
    world = World(SEED)
    t0 = time.perf_counter()
    log(f"generating {TRAIL_BYTES / 1e6:.0f} MB trail file (one line, not measured)")
    trail = directory / "trail.json"
    records = write_trail(world, trail, TRAIL_BYTES)
    log(f"  {len(records):,} records, {time.perf_counter() - t0:.0f} s; gzipping")
    gz = directory / "trail.json.gz"
    write_gzip(trail, gz)
    log(f"writing {JSONL_BYTES / 1e9:.0f} GB of JSON Lines ({time.perf_counter() - t0:.0f} s so far)")
    jsonl = directory / "records.jsonl"
    lines = write_jsonl(world, records, jsonl, JSONL_BYTES)
    log(f"writing {OBJECTS:,} small gzipped trail files ({time.perf_counter() - t0:.0f} s so far)")
    objects = directory / "objects"
    object_records, object_raw, object_packed = write_objects(world, objects, OBJECTS)
    log(f"data generated in {time.perf_counter() - t0:.0f} s")
    manifest = {
        "version": key,
        "seed": SEED,
        "trail": {"path": "trail.json", "bytes": trail.stat().st_size, "records": len(records)},
        "gzip": {
            "path": "trail.json.gz",
            "bytes": gz.stat().st_size,
            "uncompressed": trail.stat().st_size,
            "records": len(records),
        },
        "jsonl": {"path": "records.jsonl", "bytes": jsonl.stat().st_size, "records": lines},
        "objects": {
            "path": "objects/AWSLogs",
            "files": OBJECTS,
            "bytes": object_packed,
            "uncompressed": object_raw,
            "records": object_records,
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    import sys

    # A quick look at the mix: python3 trail.py [N] prints N records' categories and one of each name.
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    world = World(SEED)
    counts: dict[str, int] = {}
    sizes = 0
    for _ in range(n):
        r = world.record()
        sizes += len(_dump(r))
        kind = "failed" if "errorCode" in r else ("read" if r["readOnly"] else r["eventName"])
        counts[kind] = counts.get(kind, 0) + 1
    print(f"{n} records, mean {sizes / n:.0f} bytes")
    for kind, k in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {kind}: {k} ({100 * k / n:.2f}%)")
    sys.exit(0)
