import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { CibImportError, formatImportReport, importCib, parseCorosyncConf } from "./cib-import.ts";

const dir = new URL("./testdata/cib/", import.meta.url);
const sample = (name: string) => readFileSync(new URL(name, dir), "utf8");
const seedAddrs = { node1: "10.0.0.2", node2: "10.0.0.3" };
const webAddrs = { alpha: "10.1.0.11", bravo: "10.1.0.12", charlie: "10.1.0.13" };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CibImportError, `expected a CibImportError, got ${String(error)}`);
    return error.code;
  }
  assert.fail("expected an error");
}

const unconvertedIds = (r: ReturnType<typeof importCib>) => r.unconverted.map((u) => `${u.element} ${u.id}`);

void describe("the samples are CIBs Pacemaker itself accepts", () => {
  const hasCrmVerify = existsSync("/usr/sbin/crm_verify");
  for (const name of ["seed.xml", "web-cluster.xml", "oci-patched.xml", "one-node-full.xml"]) {
    void test(name, { skip: !hasCrmVerify && "crm_verify (pacemaker-cli-utils) is not installed" }, () => {
      // crm_verify exits non-zero for schema errors; warnings (nodes to fence in a status-less CIB) are fine.
      execFileSync("/usr/sbin/crm_verify", ["--xml-file", new URL(name, dir).pathname], { stdio: "pipe" });
    });
  }
});

void describe("the seed's set-up", () => {
  void test("becomes one cloud VIP on the two nodes, with nothing left over", () => {
    const result = importCib(sample("seed.xml"), { cloud: "oci", addrs: seedAddrs });
    const { config } = result;
    assert.equal(config.name, "vip-failover-test");
    assert.deepEqual(
      config.nodes.map((n) => [n.name, n.id, n.addrs]),
      [
        ["node1", 1, ["10.0.0.2"]],
        ["node2", 2, ["10.0.0.3"]],
      ],
    );
    assert.deepEqual(config.resources, [
      {
        id: "Cluster_VIP",
        type: "ocf:heartbeat:IPaddr2",
        params: { cidr_netmask: "24", ip: "10.0.0.200" },
        meta: {},
        ops: [
          { name: "monitor", intervalMs: 10_000, timeoutMs: 20_000 },
          // pcs wrote IPaddr2's 20 s; a cloud VIP gets floatip's minute for API retries.
          { name: "start", intervalMs: 0, timeoutMs: 60_000 },
          { name: "stop", intervalMs: 0, timeoutMs: 60_000 },
        ],
      },
    ]);
    assert.deepEqual(config.properties, { "stonith-enabled": "false", cloud: "oci" });
    assert.deepEqual(result.unconverted, []);
    assert.ok(result.notes.some((n) => n.includes("Cluster_VIP") && n.includes("OCI VIP")));
    assert.ok(result.notes.some((n) => n.startsWith("have-watchdog, dc-version, cluster-infrastructure")));
    assert.deepEqual(config.constraints, { location: [], colocation: [], order: [] });
  });

  void test("without cloud=oci the VIP stays a local address and keeps pcs's timeouts", () => {
    const result = importCib(sample("seed.xml"), { addrs: seedAddrs });
    assert.equal(result.config.properties["cloud"], undefined);
    assert.equal(result.config.resources[0]?.ops.find((o) => o.name === "start")?.timeoutMs, 20_000);
    assert.ok(result.notes.some((n) => n.includes("local address")));
  });

  void test("nodes without addresses are an error that says how to give them", () => {
    try {
      importCib(sample("seed.xml"), {});
      assert.fail("expected an error");
    } catch (error) {
      assert.ok(error instanceof CibImportError);
      assert.equal(error.code, "FLOATIP_E_CIB_NODE_ADDR");
      assert.match(error.message, /node1, node2/);
      assert.match(error.message, /node1 addr=/);
    }
  });

  void test("a bad or unknown addr= override is an error", () => {
    assert.equal(
      codeOf(() => importCib(sample("seed.xml"), { addrs: { node1: "nope", node2: "10.0.0.3" } })),
      "FLOATIP_E_CIB_NODE_ADDR",
    );
    assert.equal(
      codeOf(() => importCib(sample("seed.xml"), { addrs: { ...seedAddrs, node3: "10.0.0.4" } })),
      "FLOATIP_E_CIB_NODE_ADDR",
    );
  });
});

void describe("a web cluster with fencing, a group, rules, clones and alerts", () => {
  const result = importCib(sample("web-cluster.xml"), { addrs: webAddrs });
  const { config } = result;

  void test("nodes keep their ids and standby", () => {
    assert.deepEqual(
      config.nodes.map((n) => [n.name, n.id, n.standby]),
      [
        ["alpha", 1, false],
        ["bravo", 2, true],
        ["charlie", 3, false],
      ],
    );
  });

  void test("the group keeps member order and meta; members keep params, meta and operations", () => {
    assert.deepEqual(config.groups, [
      {
        id: "web-group",
        resources: ["web-vip", "web-server"],
        meta: { "target-role": "Started", "resource-stickiness": "100" },
      },
    ]);
    const vip = config.resources.find((r) => r.id === "web-vip");
    assert.deepEqual(vip?.params, { ip: "192.168.122.50", cidr_netmask: "24", nic: "eth0" });
    const server = config.resources.find((r) => r.id === "web-server");
    assert.equal(server?.type, "ocf:heartbeat:apache");
    assert.deepEqual(server?.meta, { "migration-threshold": "3", "failure-timeout": "2min" });
    assert.deepEqual(server?.ops, [
      { name: "monitor", intervalMs: 20_000, timeoutMs: 40_000 },
      { name: "start", intervalMs: 0, timeoutMs: 40_000 },
      // No timeout of its own: op_defaults timeout=30s.
      { name: "stop", intervalMs: 0, timeoutMs: 30_000 },
    ]);
    assert.deepEqual(config.resources.find((r) => r.id === "dummy")?.ops, [
      { name: "monitor", intervalMs: 30_000, timeoutMs: 30_000 },
    ]);
    assert.deepEqual(
      config.resources.map((r) => r.id),
      ["web-vip", "web-server", "dummy"],
    );
  });

  void test("locations, #uname rules, colocation and order are converted with their ids", () => {
    assert.deepEqual(
      config.constraints.location.map((c) => [c.id, c.resource, c.node, c.score]),
      [
        ["loc-web-alpha", "web-group", "alpha", 100],
        ["loc-web-rule-bravo", "web-group", "bravo", 50],
        ["loc-web-rule-charlie", "web-group", "charlie", 50],
        ["loc-dummy-only-charlie-alpha", "dummy", "alpha", -1_000_000],
        ["loc-dummy-only-charlie-bravo", "dummy", "bravo", -1_000_000],
        ["cli-prefer-web-group", "web-group", "charlie", 1_000_000],
      ],
    );
    assert.deepEqual(config.constraints.colocation, [
      { id: "col-dummy-web", resource: "dummy", withResource: "web-group", score: 1_000_000 },
    ]);
    assert.deepEqual(config.constraints.order, [
      { id: "ord-dummy-web", first: "dummy", then: "web-group", kind: "Optional", symmetrical: true },
    ]);
  });

  void test("properties, defaults and alerts", () => {
    assert.equal(config.name, "web-prod");
    assert.deepEqual(config.properties, {
      "stonith-enabled": "true",
      "no-quorum-policy": "freeze",
      "cluster-recheck-interval": "5min",
    });
    assert.deepEqual(config.resourceDefaults, { "resource-stickiness": "1", "migration-threshold": "5" });
    assert.deepEqual(
      config.alerts.map((a) => [a.id, a.path, a.options, a.meta, a.recipients.map((r) => [r.id, r.value])]),
      [
        [
          "file_alert",
          "/usr/share/pacemaker/alerts/alert_file.sh.example",
          {},
          { "timestamp-format": "%Y-%m-%d %H:%M:%S", timeout: "15s" },
          [["file_alert-recipient", "/var/log/pcmk_alert_file.log"]],
        ],
        [
          "smtp_alert",
          "/usr/share/pacemaker/alerts/alert_smtp.sh.example",
          { email_sender: "cluster@example.com" },
          {},
          [["smtp_alert-recipient", "ops@example.com"]],
        ],
      ],
    );
  });

  void test("everything without a floatip equivalent is listed with a reason", () => {
    const listed = unconvertedIds(result);
    for (const expected of [
      "primitive mail",
      "clone ping-clone",
      "clone stateful-clone",
      "nvpair node bravo/rack",
      "utilization node charlie",
      "nvpair crm_config/batch-limit",
      "nvpair op_defaults/record-pending",
      "nvpair rsc_defaults/meta:allow-migrate",
      "nvpair web-vip/param:iflabel",
      "op web-vip/web-vip-monitor-interval-0s",
      "nvpair web-server/meta:is-managed",
      "op web-server/web-server-monitor-interval-60s",
      "op web-server/web-server-reload-interval-0s",
      "op dummy/dummy-monitor-interval-PT30S:on-fail",
      "rule loc-dummy-weekdays/loc-dummy-weekdays-rule",
      "rule loc-dummy-pingd/loc-dummy-pingd-rule",
      "rsc_location location-fence_alpha-alpha--INFINITY",
      "rsc_location loc-ping-alpha",
      "rsc_colocation col-web-ping",
      "rsc_order ord-promote-web",
      "rsc_order ord-set",
      "rsc_ticket ticket-web",
      "select smtp_alert",
      "tags tags",
      "fencing-topology fencing-topology",
    ]) {
      assert.ok(listed.includes(expected), `${expected} is listed; listed: ${listed.join(" | ")}`);
    }
    assert.equal(listed.length, 25, listed.join(" | "));
    for (const u of result.unconverted) assert.ok(u.reason.length > 10, `${u.id} has a reason`);
    assert.match(result.unconverted.find((u) => u.id === "stateful-clone")?.reason ?? "", /promotable clone/);
  });

  void test("the fence device becomes a floatip stonith device; its location constraint has no meaning there", () => {
    assert.deepEqual(config.stonith, [
      {
        id: "fence_alpha",
        type: "fence_ipmilan",
        params: { ip: "10.1.0.1", pcmk_host_list: "alpha" },
        meta: {},
        ops: [{ name: "monitor", intervalMs: 60_000, timeoutMs: 30_000 }],
      },
    ]);
    assert.match(
      result.unconverted.find((u) => u.id === "location-fence_alpha-alpha--INFINITY")?.reason ?? "",
      /never fences itself/,
    );
    const without = importCib(sample("web-cluster.xml"), {
      addrs: webAddrs,
      fenceProblems: (type) => (type === "fence_ipmilan" ? ["Agent 'fence_ipmilan' is not installed"] : []),
    });
    assert.deepEqual(without.config.stonith, []);
    assert.match(without.unconverted.find((u) => u.id === "fence_alpha")?.reason ?? "", /not installed/);
    assert.match(
      without.unconverted.find((u) => u.id === "location-fence_alpha-alpha--INFINITY")?.reason ?? "",
      /fence_alpha, which was not converted/,
    );
  });

  void test("the report names every converted item and every unconverted one", () => {
    const text = formatImportReport(result);
    assert.match(text, /^Cluster 'web-prod'$/m);
    assert.match(text, /Group: web-group: web-vip web-server/);
    assert.match(text, /Location: web-group on charlie score INFINITY \(id: cli-prefer-web-group\)/);
    assert.match(text, /Not converted \(25\):/);
    for (const u of result.unconverted) assert.ok(text.includes(`${u.element} ${u.id}: ${u.reason}`));
  });

  void test("an agent floatip cannot run here is left out, and its group keeps the rest", () => {
    const r = importCib(sample("web-cluster.xml"), {
      addrs: webAddrs,
      agentProblem: (type) =>
        type === "ocf:heartbeat:apache" ? "Agent 'ocf:heartbeat:apache' is not installed" : null,
    });
    assert.deepEqual(r.config.groups[0]?.resources, ["web-vip"]);
    assert.ok(!r.config.resources.some((x) => x.id === "web-server"));
    assert.match(r.unconverted.find((u) => u.id === "web-server")?.reason ?? "", /not installed/);
  });
});

void describe("the seed's patched IPaddr2 copied under another provider, with corosync.conf", () => {
  const result = importCib(sample("oci-patched.xml"), { corosyncConf: sample("oci-patched.corosync.conf") });

  void test("becomes floatip's IPaddr2 on an OCI cluster, addresses and token from corosync.conf", () => {
    const { config } = result;
    assert.equal(config.name, "oci-ha");
    assert.deepEqual(
      config.nodes.map((n) => [n.name, n.id, n.addrs[0]]),
      [
        ["node1", 1, "10.0.0.2"],
        ["node2", 2, "10.0.0.3"],
      ],
    );
    assert.equal(config.totem.tokenMs, 3000);
    assert.equal(config.totem.heartbeatIntervalMs, 600, "five heartbeat rounds per imported token");
    assert.equal(config.totem.heartbeatCopies, 2);
    assert.equal(config.quorum.twoNode, true);
    const vip = config.resources[0];
    assert.equal(vip?.type, "ocf:heartbeat:IPaddr2");
    assert.deepEqual(vip?.params, { ip: "10.0.0.200", cidr_netmask: "24" });
    assert.deepEqual(vip?.meta, { "resource-stickiness": "INFINITY", "failure-timeout": "PT10M" });
    // An explicit 90 s start is longer than floatip's minute and kept; the 20 s stop is raised.
    assert.deepEqual(
      vip?.ops.map((o) => [o.name, o.timeoutMs]),
      [
        ["monitor", 20_000],
        ["start", 90_000],
        ["stop", 60_000],
      ],
    );
    assert.equal(config.properties["cloud"], "oci");
    assert.equal(config.properties["no-quorum-policy"], "ignore");
    assert.deepEqual(unconvertedIds(result), [
      "nvpair Cluster_VIP/param:vnic_node1",
      "nvpair Cluster_VIP/param:vnic_node2",
    ]);
    assert.ok(result.notes.some((n) => n.includes("ocf:oci:IPaddr2 is converted")));
  });

  void test("--cloud none keeps a local address even for the patched agent", () => {
    const r = importCib(sample("oci-patched.xml"), {
      corosyncConf: sample("oci-patched.corosync.conf"),
      cloud: "none",
    });
    assert.equal(r.config.properties["cloud"], undefined);
  });
});

void describe("small CIBs", () => {
  const cib = (configuration: string, nodes = '<node id="1" uname="n1"/><node id="2" uname="n2"/>') =>
    `<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes>${nodes}</nodes>${configuration}</configuration><status/></cib>`;
  const addrs = { n1: "192.0.2.1", n2: "192.0.2.2" };
  const dummy = (id: string) => `<primitive id="${id}" class="ocf" provider="heartbeat" type="Dummy"/>`;

  void test("legacy order score=0 is Optional; symmetrical=false is kept; unknown nodes are listed", () => {
    const r = importCib(
      cib(
        `<resources>${dummy("a")}${dummy("b")}</resources><constraints>
          <rsc_order id="o1" first="a" then="b" score="0" symmetrical="false"/>
          <rsc_location id="l1" rsc="a" node="ghost" score="10"/>
          <rsc_colocation id="c1" rsc="b" with-rsc="a" score="-50"/>
        </constraints>`,
      ),
      { addrs },
    );
    assert.deepEqual(r.config.constraints.order, [
      { id: "o1", first: "a", then: "b", kind: "Optional", symmetrical: false },
    ]);
    assert.equal(r.config.constraints.colocation[0]?.score, -50);
    assert.deepEqual(unconvertedIds(r), ["rsc_location l1"]);
    assert.match(r.unconverted[0]?.reason ?? "", /ghost/);
  });

  void test("a CIB written before the nodes joined takes its nodes from corosync.conf", () => {
    const conf = `nodelist {\n node {\n  ring0_addr: 192.0.2.7\n  name: solo\n  nodeid: 7\n }\n}\n`;
    const r = importCib(cib("<resources/>", ""), { corosyncConf: conf });
    assert.deepEqual(
      r.config.nodes.map((n) => [n.name, n.id, n.addrs[0]]),
      [["solo", 7, "192.0.2.7"]],
    );
    assert.equal(r.config.name, "imported");
    assert.equal(
      importCib(cib("<resources/>", ""), { corosyncConf: conf, name: "given" }).config.name,
      "given",
    );
  });

  void test("Pacemaker 1.0 forms: IPaddr becomes IPaddr2, default-resource-stickiness a resource default", () => {
    const r = importCib(
      `<cib validate-with="pacemaker-1.0" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="default-resource-stickiness" value="100"/></cluster_property_set></crm_config><nodes><node id="1" uname="n1"/></nodes><resources><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr"><instance_attributes id="ia"><nvpair id="ia1" name="ip" value="192.0.2.50"/></instance_attributes></primitive></resources><constraints/></configuration></cib>`,
      { addrs: { n1: "192.0.2.1" } },
    );
    assert.equal(r.config.resources[0]?.type, "ocf:heartbeat:IPaddr2");
    assert.equal(
      r.config.properties["cloud"],
      undefined,
      "the old IPaddr does not say the cluster is on OCI",
    );
    assert.deepEqual(r.config.resourceDefaults, { "resource-stickiness": "100" });
    assert.deepEqual(r.unconverted, []);
  });

  void test("a CIB without nodes imported into a running cluster takes the cluster's nodes", () => {
    const r = importCib(cib("<resources/>", ""), { knownAddrs: { n1: "192.0.2.1", n2: "192.0.2.2" } });
    assert.deepEqual(
      r.config.nodes.map((n) => [n.name, n.addrs[0]]),
      [
        ["n1", "192.0.2.1"],
        ["n2", "192.0.2.2"],
      ],
    );
  });

  void test("node unames that are addresses need no addr=", () => {
    const r = importCib(cib("<resources/>", '<node id="1" uname="192.0.2.9"/>'));
    assert.deepEqual(r.config.nodes[0]?.addrs, ["192.0.2.9"]);
  });

  void test("a meta value floatip rejects is listed, not stored", () => {
    const r = importCib(
      cib(
        `<resources><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="m"><nvpair id="m1" name="migration-threshold" value="-3"/><nvpair id="m2" name="target-role" value="stopped"/></meta_attributes></primitive></resources>`,
      ),
      { addrs },
    );
    assert.deepEqual(r.config.resources[0]?.meta, { "target-role": "Stopped" });
    assert.deepEqual(unconvertedIds(r), ["nvpair a/meta:migration-threshold"]);
  });
});

void describe("documents that are not CIBs", () => {
  void test("bad XML names the line", () => {
    try {
      importCib("<cib>\n<configuration>\n</cib>");
      assert.fail("expected an error");
    } catch (error) {
      assert.ok(error instanceof CibImportError);
      assert.equal(error.code, "FLOATIP_E_CIB_INVALID");
      assert.match(error.message, /^FLOATIP_E_CIB_INVALID: not well-formed XML at line \d+/);
    }
  });

  void test("other documents, empty files and CIBs without configuration are refused", () => {
    assert.equal(
      codeOf(() => importCib('<?xml version="1.0"?><resource-agent name="x"/>')),
      "FLOATIP_E_CIB_INVALID",
    );
    assert.equal(
      codeOf(() => importCib("")),
      "FLOATIP_E_CIB_INVALID",
    );
    assert.equal(
      codeOf(() => importCib("just text")),
      "FLOATIP_E_CIB_INVALID",
    );
    assert.equal(
      codeOf(() => importCib("<cib><status/></cib>")),
      "FLOATIP_E_CIB_INVALID",
    );
    assert.equal(
      codeOf(() => importCib("<cib><configuration><nodes/></configuration></cib>")),
      "FLOATIP_E_CIB_INVALID",
    );
  });

  void test("a corosync.conf with an unclosed section is refused", () => {
    assert.equal(
      codeOf(() => parseCorosyncConf("totem {\n token: 1000\n")),
      "FLOATIP_E_CIB_INVALID",
    );
  });
});
