import type { ResourceStatusView, StatusSnapshot } from "../../api/status-types.ts";
import type { ClusterEventType } from "../../observability/event-log.ts";
import { byId, clock, el, ms, pill } from "./dom.ts";
import { num, text, VIP_TYPE, type View } from "./view.ts";

/** Draws the view into the page's sections; each call redraws them whole from the view. */

/** The timeline filter's boxes, in order; `satisfies` holds the list to ClusterEventType, both ways. */
const EVENT_TYPE_BOXES = {
  membership: true,
  decision: true,
  action: true,
  resource: true,
  "cloud-call": true,
  failover: true,
  config: true,
  fencing: true,
  quorum: true,
} satisfies Record<ClusterEventType, true>;
const EVENT_TYPES = Object.keys(EVENT_TYPE_BOXES) as ClusterEventType[];

/** The event types the reader unticked in the timeline's filter. */
export const hiddenTypes = new Set<string>();

export function render(view: View, status: StatusSnapshot): void {
  const header = byId("cluster-name");
  header.textContent = status.clusterName ? `cluster ${status.clusterName}` : "no cluster configured";
  byId("quorum").replaceChildren(
    status.running
      ? status.quorate
        ? pill("quorate", "ok")
        : pill("no quorum", "bad")
      : pill("cluster services stopped", "warn"),
  );
  byId("viewed-from").textContent = status.nodeName ? `as seen from ${status.nodeName}` : "";
  renderNodes(status);
  renderVips(view, status);
  renderFailovers(view);
  renderResources(status);
  renderEvents(view);
}

/** Configured nodes first, then any other node the status names. */
function nodeNames(s: StatusSnapshot): string[] {
  const names: string[] = [];
  const add = (n: string) => {
    if (!names.includes(n)) names.push(n);
  };
  for (const n of s.config?.nodes ?? []) add(n.name);
  for (const n of [...s.online, ...s.offline, ...(s.leaving ?? [])]) add(n);
  return names;
}

function renderNodes(s: StatusSnapshot): void {
  const addrs = new Map((s.config?.nodes ?? []).map((n) => [n.name, (n.addrs ?? []).join(", ")]));
  const names = nodeNames(s);
  byId("nodes-hint").textContent = `${s.online.length} of ${names.length} online`;
  byId("nodes").replaceChildren(
    ...names.map((name) => {
      const state = s.online.includes(name) ? "online" : s.offline.includes(name) ? "offline" : "unknown";
      const tags = [
        pill(state, state === "online" ? "ok" : state === "offline" ? "bad" : "muted", "node-state"),
      ];
      if (s.dc === name) tags.push(pill("DC", "info", "node-dc"));
      if (s.nodeName === name) tags.push(pill("this node", "muted"));
      if ((s.leaving ?? []).includes(name)) tags.push(pill("leaving", "warn"));
      return el(
        "div",
        { className: "node", "data-testid": `node-${name}`, "data-state": state, "data-dc": s.dc === name },
        [
          el("div", { className: "name", text: name }),
          el("div", { className: "addr mono", text: addrs.get(name) ?? "" }),
          el("div", { className: "addr", "data-testid": `node-zone-${name}`, text: s.zones?.[name] ?? "" }),
          el("div", { className: "tags" }, tags),
        ],
      );
    }),
  );
}

function renderVips(view: View, s: StatusSnapshot): void {
  const cloud = s.config?.properties?.["cloud"];
  const rows = s.resources
    .filter((r) => r.type === VIP_TYPE)
    .map((r) => {
      const params = s.config?.resources.find((c) => c.id === r.id)?.params;
      const addr = params
        ? `${params["ip"]}${params["cidr_netmask"] ? `/${params["cidr_netmask"]}` : ""}`
        : "";
      const running = r.runningOn.length ? r.runningOn.join(", ") : r.disabled ? "disabled" : "stopped";
      const runCell = el("td", {}, [
        el("div", {
          className: "vip-holder",
          "data-testid": `vip-running-${r.id}`,
          "data-nodes": r.runningOn.join(","),
          text: running,
        }),
        r.failedOn.length
          ? el("div", { className: "detail", text: `failed on ${r.failedOn.join(", ")}` })
          : null,
      ]);
      const holder = view.cloudHolder.get(r.id);
      let cloudCell: HTMLTableCellElement;
      if (!cloud) {
        cloudCell = el("td", { "data-testid": `vip-cloud-${r.id}`, "data-node": "" }, [
          el("span", { className: "detail", text: "not a cloud VIP (no cloud property)" }),
        ]);
      } else if (!holder) {
        cloudCell = el("td", { "data-testid": `vip-cloud-${r.id}`, "data-node": "" }, [
          el("div", { className: "vip-holder", text: "\u2014" }),
          el("div", { className: "detail", text: "no move seen in this node's event log yet" }),
        ]);
      } else {
        const how = holder.how
          ? `${holder.how.op} ${holder.how.status} in ${ms(holder.how.latencyMs)}` +
            (holder.how.opcRequestId ? ` \u00b7 opc-request-id ${holder.how.opcRequestId}` : "")
          : "failover completed";
        cloudCell = el("td", { "data-testid": `vip-cloud-${r.id}`, "data-node": holder.node }, [
          el("div", { className: "vip-holder", text: `${holder.node} (${cloud})` }),
          el("div", { className: "detail mono", text: `${clock(holder.at)} \u00b7 ${how}` }),
        ]);
      }
      const agree = !holder || (r.runningOn.length === 1 && r.runningOn[0] === holder.node);
      return el("tr", { "data-testid": `vip-${r.id}`, className: agree ? "" : "agree-false" }, [
        el("td", {}, [el("strong", { text: r.id })]),
        el("td", { className: "mono", text: addr }),
        runCell,
        cloudCell,
      ]);
    });
  byId("vips").replaceChildren(
    ...(rows.length
      ? rows
      : [el("tr", {}, [el("td", { colspan: 4, className: "empty", text: "No IPaddr2 resources." })])]),
  );
}

const PHASES = ["detect", "decide", "start"] as const;

function renderFailovers(view: View): void {
  const list = view.failovers.slice().reverse();
  const box = byId("failovers");
  if (!list.length) {
    box.replaceChildren(
      el("p", {
        className: "empty",
        text: "No failover recorded by this node (the coordinator records them).",
      }),
    );
    return;
  }
  // One scale for every bar: the longest failover spans the track.
  const scale = Math.max(1, ...list.map((e) => num(e.data, "totalMs")));
  box.replaceChildren(
    ...list.map((e) => {
      const d = e.data;
      const total = num(d, "totalMs");
      const parts = PHASES.map((phase) => [phase, num(d, `${phase}Ms`)] as const);
      const sum = parts.reduce((a, [, value]) => a + Math.max(0, value), 0) || 1;
      const bar = el(
        "div",
        { className: "bar", style: { width: `${((100 * total) / scale).toFixed(2)}%` } },
        parts.map(([phase, value]) => {
          const share = Math.max(0, value) / sum;
          const wide = share * (total / scale) > 0.09;
          return el("div", {
            className: `seg ${phase}`,
            style: { width: `${(100 * share).toFixed(2)}%` },
            title: `${phase} ${ms(value)}`,
            "data-testid": `failover-${phase}`,
            "data-ms": value,
            text: wide ? `${phase} ${ms(value)}` : "",
          });
        }),
      );
      const cause = text(d, "cause");
      return el(
        "div",
        {
          className: "failover",
          "data-testid": "failover-bar",
          "data-resource": text(d, "resource"),
          "data-from": text(d, "from"),
          "data-to": text(d, "to"),
          "data-total-ms": total,
        },
        [
          el("div", { className: "label" }, [
            el("strong", { text: text(d, "resource") }),
            el("span", { text: `${text(d, "from")} \u2192 ${text(d, "to")}` }),
            pill(
              cause === "node-lost" ? "node lost" : cause === "resource-failed" ? "resource failed" : cause,
              "muted",
            ),
            el("span", { className: "detail", text: clock(e.at) }),
            el("span", { className: "total", "data-testid": "failover-total", text: `total ${ms(total)}` }),
          ]),
          el("div", { className: "track" }, [bar]),
          el("div", {
            className: "phases",
            text: parts.map(([phase, value]) => `${phase} ${ms(value)}`).join(" \u00b7 "),
          }),
        ],
      );
    }),
  );
}

function resourceState(r: ResourceStatusView): HTMLSpanElement[] {
  const state: HTMLSpanElement[] = [];
  if (r.disabled) state.push(pill("disabled", "muted"));
  if (r.runningOn.length) state.push(pill(`running on ${r.runningOn.join(", ")}`, "ok"));
  if (r.failedOn.length) state.push(pill(`failed on ${r.failedOn.join(", ")}`, "bad"));
  if ((r.unknownOn ?? []).length) state.push(pill(`unknown on ${r.unknownOn.join(", ")}`, "warn"));
  if (!state.length) state.push(pill("stopped", "muted"));
  return state;
}

function renderResources(s: StatusSnapshot): void {
  const rows = s.resources.map((r) => {
    const counts = Object.entries(r.failCounts ?? {})
      .map(([n, count]) => `${n}: ${count}`)
      .join(", ");
    const messages = Object.entries(r.messages ?? {})
      .map(([n, message]) => `${n}: ${message}`)
      .join("; ");
    return el("tr", { "data-testid": `resource-${r.id}` }, [
      el("td", {}, [el("strong", { text: r.id })]),
      el("td", { className: "mono", text: r.type }),
      el("td", {}, resourceState(r)),
      el("td", { "data-testid": `failcounts-${r.id}`, text: counts || "\u2014" }),
      el("td", { className: "detail", text: messages }),
    ]);
  });
  byId("resources").replaceChildren(
    ...(rows.length
      ? rows
      : [el("tr", {}, [el("td", { colspan: 5, className: "empty", text: "No resources configured." })])]),
  );
}

/** The timeline's type checkboxes; `onChange` redraws the timeline. */
export function renderTypeFilter(onChange: () => void): void {
  byId("type-filter").replaceChildren(
    ...EVENT_TYPES.map((t) => {
      const input = el("input", { type: "checkbox", "data-type": t });
      input.checked = !hiddenTypes.has(t);
      input.addEventListener("change", () => {
        if (input.checked) hiddenTypes.delete(t);
        else hiddenTypes.add(t);
        onChange();
      });
      return el("label", {}, [input, el("span", { className: `pill t-${t}`, text: t })]);
    }),
  );
}

export function renderEvents(view: View): void {
  const shown = view.events
    .filter((e) => !hiddenTypes.has(e.type))
    .slice(-200)
    .reverse();
  byId("events-hint").textContent = `newest first, live \u00b7 ${view.events.length} kept`;
  const list = byId("events");
  if (!shown.length) {
    list.replaceChildren(el("li", { className: "empty", text: "No events yet." }));
    return;
  }
  list.replaceChildren(
    ...shown.map((e) =>
      el(
        "li",
        {
          "data-testid": "event",
          "data-type": e.type,
          "data-seq": e.seq,
          className: e.seq >= view.newSeqFrom ? "new" : "",
        },
        [
          el("span", { className: "time", text: clock(e.at) }),
          el("span", { className: "detail", text: e.node }),
          el("span", {}, [el("span", { className: `pill t-${e.type}`, text: e.type })]),
          el("span", { className: "summary", text: e.summary }),
        ],
      ),
    ),
  );
}
