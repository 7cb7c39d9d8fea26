"""The benchmark account: 50 EKS clusters, 2,000 security groups holding 10,000 ingress rules, and
200 managed nodegroups, with a known set of dangerous settings planted among harmless ones.

The plan is data first (`plan()`): every resource, every rule and every finding snapback must
report for it. `seed()` then creates that plan in moto. Nothing here is measured.

What counts as a finding follows RULES.md with the default configuration:
- a security-group rule judges a group only when the group belongs to a cluster (`scope: eks`):
  listed in a cluster's `resourcesVpcConfig.securityGroupIds`, or tagged
  `kubernetes.io/cluster/<name>` / `aws:eks:cluster-name`. World-open rules in other groups are
  planted too, but out of scope: snapback must not report them; Custodian, which has no notion of
  a cluster's groups, does.
- one finding per (rule, group), however many of the group's rules it names;
- a rule that opens everything (protocol -1, or tcp/udp 1-65535) is `sg-open-all-traffic`'s alone;
- a public endpoint is `eks-public-endpoint` (its default allowed CIDR list is empty), and also
  `eks-public-endpoint-open-cidr` when its CIDRs hold a /0;
- a nodegroup with an SSH key and no source security groups is `eks-nodegroup-ssh-open`, reported
  on its cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account: every dummy key maps to it

CLUSTERS = 50
GROUPS = 2000
RULES_PER_GROUP = 5  # 2,000 x 5 = 10,000 ingress rules
NODEGROUPS_PER_CLUSTER = 4  # 200 nodegroups
GROUPS_PER_CLUSTER = 2  # the first 100 groups are listed in the clusters' VPC configs
TAGGED_GROUPS = 20  # the next 20 belong to a cluster by tag only

ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench-node"
CLUSTER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench-cluster"


@dataclass(frozen=True)
class Finding:
    """A finding as snapback's JSON names it; `nodegroup` for eks-nodegroup-ssh-open, which is
    reported on the cluster and names the nodegroup in its text."""

    rule: str
    resource: str
    nodegroup: str | None = None


# A world-open permission and what it plants: (protocol, from, to, cidr, rule or None).
# None marks a decoy: world-open, but nothing snapback watches (or not tcp).
DANGEROUS = {
    "ssh": ("tcp", 22, 22, "0.0.0.0/0", "sg-open-remote-admin"),
    "ssh-range": ("tcp", 20, 23, "0.0.0.0/0", "sg-open-remote-admin"),
    "rdp-v6": ("tcp", 3389, 3389, "::/0", "sg-open-remote-admin"),
    "kubelet": ("tcp", 10250, 10250, "0.0.0.0/0", "sg-open-kubelet"),
    "kubelet-ro-v6": ("tcp", 10255, 10255, "::/0", "sg-open-kubelet"),
    "api-443": ("tcp", 443, 443, "0.0.0.0/0", "sg-open-k8s-api"),
    "api-6443": ("tcp", 6443, 6443, "0.0.0.0/0", "sg-open-k8s-api"),
    "all": ("-1", None, None, "0.0.0.0/0", "sg-open-all-traffic"),
    "all-v6": ("-1", None, None, "::/0", "sg-open-all-traffic"),
    "all-tcp-ports": ("tcp", 0, 65535, "0.0.0.0/0", "sg-open-all-traffic"),
    "http": ("tcp", 80, 80, "0.0.0.0/0", None),
    "udp-ssh": ("udp", 22, 22, "0.0.0.0/0", None),
    "nodeports": ("tcp", 30000, 32767, "0.0.0.0/0", None),
}

# What the groups of clusters get, in order: (count, dangerous permissions). Groups 0..99 are the
# clusters' VPC-config groups, then the 20 tagged ones; the plan walks them from group 0.
IN_SCOPE = [
    (12, ["ssh"]),
    (2, ["ssh-range"]),
    (3, ["rdp-v6"]),
    (6, ["kubelet"]),
    (2, ["kubelet-ro-v6"]),
    (5, ["api-443"]),
    (3, ["api-6443"]),
    (4, ["all"]),
    (1, ["all-v6"]),
    (2, ["all-tcp-ports"]),
    (2, ["ssh", "kubelet"]),  # two findings on one group
    (2, ["all", "ssh"]),  # all traffic plus ssh: both findings (the ssh rule is a rule of its own)
    (4, ["http"]),
    (2, ["udp-ssh"]),
    (2, ["nodeports"]),
]
# Tagged groups (belonging to a cluster by tag only).
IN_SCOPE_TAGGED = [(3, ["ssh"]), (2, ["kubelet"]), (1, ["all"])]
# Groups of no cluster: out of scope for snapback.
OUT_OF_SCOPE = [(10, ["ssh"]), (5, ["kubelet"]), (5, ["api-443"]), (5, ["all"]), (5, ["rdp-v6"])]

# Clusters, in order from cluster 0: (count, kind). Every other cluster is compliant: private
# endpoint only, every log type on, secrets encrypted with a KMS key.
CLUSTER_KINDS = [
    (8, "public-open"),  # public, 0.0.0.0/0: eks-public-endpoint + eks-public-endpoint-open-cidr
    (4, "public-limited"),  # public, 203.0.113.0/24: eks-public-endpoint
    (2, "public-only"),  # public limited, private off: + eks-private-endpoint-disabled
    (3, "audit-off"),  # logging without audit: eks-control-plane-logging-disabled
    (3, "unencrypted"),  # no encryption config: eks-secrets-encryption-missing
]
# Nodegroups, from nodegroup 0 (4 per cluster): (count, kind); the rest are "ssh-limited" (an SSH
# key with source security groups: nothing to report). moto cannot hold a nodegroup without remote
# access: it gives every nodegroup created without one `{"ec2SshKey": "eksKeypair"}` and no source
# groups (AWS returns none), which both tools would rightly report as SSH open to the world.
NODEGROUP_KINDS = [
    (16, "ssh-open"),  # SSH key, no source groups: eks-nodegroup-ssh-open
]


@dataclass
class Group:
    name: str
    cluster: str | None = None  # the cluster listing it in its VPC config
    tagged_cluster: str | None = None  # the cluster it belongs to by tag
    dangerous: list[str] = field(default_factory=list)
    group_id: str = ""  # set by seed()


@dataclass
class Cluster:
    name: str
    kind: str
    group_indexes: list[int]


@dataclass
class Nodegroup:
    cluster: str
    name: str
    kind: str


@dataclass
class Plan:
    groups: list[Group]
    clusters: list[Cluster]
    nodegroups: list[Nodegroup]

    @property
    def ingress_rules(self) -> int:
        return len(self.groups) * RULES_PER_GROUP

    def expected(self) -> set[Finding]:
        """Every finding snapback must report (group resources need seed() to have run)."""
        found: set[Finding] = set()
        for group in self.groups:
            if group.cluster or group.tagged_cluster:
                found |= {Finding(DANGEROUS[d][4], group.group_id) for d in group.dangerous if DANGEROUS[d][4]}
        for cluster in self.clusters:
            rules = {
                "public-open": ["eks-public-endpoint", "eks-public-endpoint-open-cidr"],
                "public-limited": ["eks-public-endpoint"],
                "public-only": ["eks-public-endpoint", "eks-private-endpoint-disabled"],
                "audit-off": ["eks-control-plane-logging-disabled"],
                "unencrypted": ["eks-secrets-encryption-missing"],
                "compliant": [],
            }[cluster.kind]
            found |= {Finding(rule, cluster.name) for rule in rules}
        for nodegroup in self.nodegroups:
            if nodegroup.kind == "ssh-open":
                found.add(Finding("eks-nodegroup-ssh-open", nodegroup.cluster, nodegroup.name))
        return found

    def out_of_scope(self) -> set[Finding]:
        """World-open rules in groups of no cluster: not for snapback to report."""
        return {
            Finding(DANGEROUS[d][4], group.group_id)
            for group in self.groups
            if not (group.cluster or group.tagged_cluster)
            for d in group.dangerous
            if DANGEROUS[d][4]
        }


def _spread(kinds: list[tuple[int, object]], total: int, rest: object) -> list[object]:
    out = [kind for count, kind in kinds for _ in range(count)]
    assert len(out) <= total, (len(out), total)
    return out + [rest] * (total - len(out))


def plan() -> Plan:
    clusters = [
        Cluster(f"bench-eks-{c:02d}", kind, [c * GROUPS_PER_CLUSTER + g for g in range(GROUPS_PER_CLUSTER)])
        for c, kind in enumerate(_spread(CLUSTER_KINDS, CLUSTERS, "compliant"))
    ]
    groups = [Group(f"bench-sg-{g:04d}") for g in range(GROUPS)]
    for cluster in clusters:
        for index in cluster.group_indexes:
            groups[index].cluster = cluster.name
    listed = CLUSTERS * GROUPS_PER_CLUSTER
    for offset in range(TAGGED_GROUPS):
        groups[listed + offset].tagged_cluster = clusters[offset % CLUSTERS].name
    # Dangerous permissions: cluster groups from the first, tagged ones, then groups of no cluster
    # (spaced through the rest of the account).
    for group, dangerous in zip(groups[:listed], _spread(IN_SCOPE, listed, [])):
        group.dangerous = list(dangerous)
    tagged = groups[listed : listed + TAGGED_GROUPS]
    for group, dangerous in zip(tagged, _spread(IN_SCOPE_TAGGED, TAGGED_GROUPS, [])):
        group.dangerous = list(dangerous)
    unscoped = groups[listed + TAGGED_GROUPS :]
    step = len(unscoped) // sum(count for count, _ in OUT_OF_SCOPE)
    for at, dangerous in enumerate(_spread(OUT_OF_SCOPE, sum(c for c, _ in OUT_OF_SCOPE), [])):
        unscoped[at * step].dangerous = list(dangerous)
    nodegroups = [
        Nodegroup(clusters[n // NODEGROUPS_PER_CLUSTER].name, f"ng-{n % NODEGROUPS_PER_CLUSTER}", kind)
        for n, kind in enumerate(_spread(NODEGROUP_KINDS, CLUSTERS * NODEGROUPS_PER_CLUSTER, "ssh-limited"))
    ]
    # Spread the nodegroup kinds over clusters instead of packing them into the first few.
    kinds = [n.kind for n in nodegroups]
    order = sorted(range(len(nodegroups)), key=lambda n: (n % NODEGROUPS_PER_CLUSTER, n // NODEGROUPS_PER_CLUSTER))
    for n, kind in zip(order, kinds):
        nodegroups[n].kind = kind
    return Plan(groups, clusters, nodegroups)


def _permissions(index: int, group: Group) -> list[dict]:
    """RULES_PER_GROUP ingress permissions: the group's dangerous ones, then harmless ones (tcp
    from private /24s, some on watched ports, which are fine from there)."""
    perms = []
    for name in group.dangerous:
        protocol, low, high, cidr, _ = DANGEROUS[name]
        perm: dict = {"IpProtocol": protocol}
        if low is not None:
            perm |= {"FromPort": low, "ToPort": high}
        perm["Ipv6Ranges" if ":" in cidr else "IpRanges"] = [
            {"CidrIpv6": cidr} if ":" in cidr else {"CidrIp": cidr}
        ]
        perms.append(perm)
    harmless_ports = [22, 443, 5432, 8080, 10250, 3306, 9090]
    n = 0
    while len(perms) < RULES_PER_GROUP:
        port = harmless_ports[(index + n) % len(harmless_ports)]
        cidr = f"10.{index % 250}.{n}.0/24"
        perms.append({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]})
        n += 1
    return perms


def seed(endpoint: str, the_plan: Plan, log=print) -> None:
    """Creates the plan in moto's account and fills in the group ids."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=endpoint)
    eks = session.client("eks", endpoint_url=endpoint)
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]]
    for index, group in enumerate(the_plan.groups):
        # Only the groups that belong to a cluster by tag carry a tag: moto looks each group's and
        # each rule's tags up by scanning every tag of the region, so a tag on all 2,000 groups
        # makes its describes quadratic (see docs/BENCHMARKS.md).
        extra = {}
        if group.tagged_cluster:
            tags = [{"Key": f"kubernetes.io/cluster/{group.tagged_cluster}", "Value": "owned"}]
            extra["TagSpecifications"] = [{"ResourceType": "security-group", "Tags": tags}]
        group.group_id = ec2.create_security_group(
            GroupName=group.name, Description="snapback sweep benchmark", VpcId=vpc_id, **extra
        )["GroupId"]
        # One call per group for all its rules.
        ec2.authorize_security_group_ingress(GroupId=group.group_id, IpPermissions=_permissions(index, group))
        if (index + 1) % 500 == 0:
            log(f"seed: {index + 1} security groups")
    for cluster in the_plan.clusters:
        public = cluster.kind.startswith("public")
        vpc = {
            "subnetIds": subnets[:2],
            "securityGroupIds": [the_plan.groups[i].group_id for i in cluster.group_indexes],
            "endpointPublicAccess": public,
            "endpointPrivateAccess": cluster.kind != "public-only",
        }
        if public:
            vpc["publicAccessCidrs"] = ["0.0.0.0/0"] if cluster.kind == "public-open" else ["203.0.113.0/24"]
        types = [t for t in ALL_LOG_TYPES if not (cluster.kind == "audit-off" and t == "audit")]
        extra = {}
        if cluster.kind != "unencrypted":
            extra["encryptionConfig"] = [{"resources": ["secrets"], "provider": {"keyArn": KMS_KEY}}]
        eks.create_cluster(
            name=cluster.name,
            roleArn=CLUSTER_ROLE,
            resourcesVpcConfig=vpc,
            logging={"clusterLogging": [{"types": types, "enabled": True}]},
            tags={"bench": "sweep"},
            **extra,
        )
    log(f"seed: {len(the_plan.clusters)} clusters")
    bastion = the_plan.groups[-1].group_id  # a group of no cluster, with harmless rules only
    assert not the_plan.groups[-1].dangerous
    for nodegroup in the_plan.nodegroups:
        remote = {"ec2SshKey": "bench-key"}
        if nodegroup.kind == "ssh-limited":
            remote["sourceSecurityGroups"] = [bastion]
        eks.create_nodegroup(
            clusterName=nodegroup.cluster,
            nodegroupName=nodegroup.name,
            subnets=subnets[:2],
            nodeRole=NODE_ROLE,
            remoteAccess=remote,
        )
    log(f"seed: {len(the_plan.nodegroups)} nodegroups")
