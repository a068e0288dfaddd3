// 民呼必应 坐席工作台 / 班长席 — plain script, no build step.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const supervisorPage = document.body.dataset.page === "supervisor";
  const KINDS = { consultation: "咨询", help: "求助", complaint: "投诉", suggestion: "意见建议" };
  let token = sessionStorage.getItem("minhu.token") || "";
  let socket = null;
  let retry = 0;
  let call = null;

  function showError(message) { $("error").textContent = message || ""; }

  async function api(method, path, body) {
    const response = await fetch("/api/v1" + path, {
      method,
      headers: Object.assign({ Authorization: "Bearer " + token }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401) { logout(); }
      const error = new Error(data.message || ("请求失败 " + response.status));
      error.code = data.error; error.status = response.status; throw error;
    }
    return data;
  }
  async function act(method, path, body) {
    try { showError(""); return await api(method, path, body); } catch (e) { showError(e.message); return null; }
  }
  function text(value) { return value === null || value === undefined ? "" : String(value); }
  function escapeHtml(value) {
    return text(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // --- sign in ----------------------------------------------------------------------------
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new URLSearchParams({ username: $("username").value, password: $("password").value });
    const response = await fetch("/api/v1/auth/token", { method: "POST", body: form });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) { showError(data.message || "登录失败"); return; }
    token = data.access_token;
    sessionStorage.setItem("minhu.token", token);
    start();
  });
  function logout() {
    token = ""; sessionStorage.removeItem("minhu.token");
    if (socket) { socket.onclose = null; socket.close(); }
    $("desk").classList.add("hidden"); $("login-box").classList.remove("hidden");
  }

  async function start() {
    showError("");
    $("login-box").classList.add("hidden");
    $("desk").classList.remove("hidden");
    if (!supervisorPage) { await loadLists(); await restore(); }
    connect();
  }

  // --- the live channel: reconnect with backoff, restore from the snapshot -----------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/agent");
    $("ws-state").textContent = "连接中…";
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token }));
    socket.onmessage = (event) => handle(JSON.parse(event.data));
    socket.onclose = (event) => {
      $("ws-state").textContent = "已断开，正在重连";
      if (event.code === 4401) { logout(); return; }
      if (event.code === 4409) { return; }
      const delay = Math.min(30000, 500 * Math.pow(2, retry++)) * (0.5 + Math.random() / 2);
      setTimeout(() => { if (token) { restore().finally(connect); } }, delay);
    };
  }
  setInterval(() => { if (socket && socket.readyState === 1) socket.send('{"type":"ping"}'); }, 20000);

  async function restore() {
    if (supervisorPage) return;
    const snapshot = await act("GET", "/agent/state");
    if (snapshot) applySnapshot(snapshot);
  }

  function applySnapshot(snapshot) {
    if (!snapshot) return;
    if (snapshot.agent) renderAgent(snapshot.agent);
    call = snapshot.call;
    renderCall();
    if (snapshot.screen_pop && !snapshot.screen_pop.pending) renderPop(snapshot.screen_pop);
    if (!snapshot.call) $("screen-pop").textContent = "—";
    if (snapshot.queue) renderStats(snapshot.queue);
    if (snapshot.three_party !== undefined) renderThreeParty(snapshot.three_party);
    if (snapshot.wallboard) renderWallboard(snapshot.wallboard);
    restoreLive(snapshot.transcript, snapshot.kb_suggestions);
    const banner = $("banner");
    if (banner) {
      banner.textContent = snapshot.pbx_configured === false ? "电话系统未配置，话务功能不可用" : (snapshot.pbx_connected === false ? "电话系统连接中断" : "");
      banner.classList.toggle("hidden", !banner.textContent);
    }
  }

  function handle(message) {
    switch (message.type) {
      case "hello":
        retry = 0;
        $("ws-state").textContent = "已连接";
        $("who").textContent = message.user;
        applySnapshot(message.snapshot);
        break;
      case "agent_state": renderAgent(message.agent); break;
      case "call":
        call = message.event === "ended" ? null : message.call;
        renderCall();
        if (message.event === "offered" || message.event === "answered") prefillOrder(message.call);
        if (message.event === "ended") $("three-party-state").textContent = "";
        break;
      case "screen_pop": renderPop(message); prefillOrder(message.call); break;
      case "queue": renderStats(message.stats); break;
      case "wallboard": renderWallboard(message); break;
      case "wrapup": $("wrapup").textContent = "话后整理 " + Math.round(message.seconds) + " 秒"; break;
      case "three_party": renderThreeParty(message.call, message.message); break;
      case "replaced": $("ws-state").textContent = "已在其他窗口打开"; socket.onclose = null; break;
      case "transcript": renderTranscript(message); break;
      case "kb_suggestions": renderSuggestions(message); break;
    }
  }

  // --- live transcript and knowledge-base suggestions ----------------------------------------
  let transcriptCall = null;
  const finals = [];
  function renderTranscript(message) {
    const box = $("transcript");
    if (!box) return;
    if (transcriptCall !== message.linkedid) {
      transcriptCall = message.linkedid;
      finals.length = 0;
      if ($("kb-suggestions")) $("kb-suggestions").textContent = "—";
    }
    let partial = "";
    if (message.stage === "final" && message.text) finals.push(message.text);
    if (message.stage === "partial") partial = message.text;
    const ended = message.stage === "ended" ? "<p class='transcript-end'>（通话转写结束）</p>" : "";
    box.innerHTML = finals.map((t) => "<p class='final'>" + escapeHtml(t) + "</p>").join("") +
      (partial ? "<p class='partial'>" + escapeHtml(partial) + "…</p>" : "") + ended;
    box.scrollTop = box.scrollHeight;
  }

  // A reconnecting page gets the call's transcript so far (finals and the current partial).
  function restoreLive(t, suggestions) {
    if (!t || !$("transcript")) return;
    const partial = t.stage === "partial" ? t.text : "";
    let said = t.transcript || "";
    if (partial && said.endsWith(partial)) said = said.slice(0, said.length - partial.length).trim();
    transcriptCall = null;
    renderTranscript({ linkedid: t.linkedid, stage: "restore", text: "" });
    if (said) finals.push(said);
    renderTranscript({ linkedid: t.linkedid, stage: t.stage === "ended" ? "ended" : (partial ? "partial" : "restore"), text: partial });
    if (suggestions) renderSuggestions(suggestions);
  }

  function renderSuggestions(message) {
    const box = $("kb-suggestions");
    if (!box || (transcriptCall && message.linkedid !== transcriptCall)) return;
    // title_html and snippet_html are escaped by the server, with <em> around the matched words
    box.innerHTML = message.hits.length
      ? message.hits.map((h) => "<p class='kb-hit kb-suggestion' data-article='" + escapeHtml(h.id) + "'><b>" + h.title_html +
          "</b>" + (h.flags.length ? " <span class='kb-flag'>（需复核）</span>" : "") + "<br>" + h.snippet_html + "</p>").join("")
      : "暂无相关条目";
  }

  // --- rendering --------------------------------------------------------------------------
  function renderAgent(agent) {
    if (!agent || !$("agent-state")) return;
    $("agent-state").textContent = agent.state_label + (agent.paused_label && agent.state === "paused" ? "（" + agent.paused_label + "）" : "");
    $("agent-state").dataset.state = agent.state;
    if (agent.interface && $("interface")) $("interface").value = agent.interface;
    if (agent.state !== "wrapup" && $("wrapup")) $("wrapup").textContent = "";
  }
  function renderCall() {
    const box = $("call");
    if (!box) return;
    if (!call) { box.textContent = "无通话"; box.className = ""; return; }
    box.className = call.phase === "ringing" ? "offered" : "talking";
    box.innerHTML = "<b>" + escapeHtml(call.phase_label) + "</b> 来电号码：<span id='caller-number'>" + escapeHtml(call.caller_number) +
      "</span> " + escapeHtml(call.caller_name);
  }
  function renderPop(pop) {
    const rows = pop.earlier_orders.map((o) => "<tr><td>" + escapeHtml(o.number) + "</td><td>" + escapeHtml(KINDS[o.kind] || o.kind) +
      "</td><td>" + escapeHtml(o.category) + "</td><td class='order-state'>" + escapeHtml(o.state_label) + "</td><td>" +
      escapeHtml(o.registered_at.slice(0, 16).replace("T", " ")) + "</td><td>" + escapeHtml(o.content_summary) + "</td></tr>").join("");
    $("screen-pop").innerHTML = pop.earlier_orders.length
      ? "<p>来电人 " + escapeHtml(pop.caller_number_masked) + " 共有 " + pop.earlier_orders.length + " 件历史工单，" + pop.open_orders + " 件未办结</p>" +
        "<table id='earlier-orders'><thead><tr><th>工单号</th><th>类型</th><th>分类</th><th>状态</th><th>登记时间</th><th>内容</th></tr></thead><tbody>" + rows + "</tbody></table>"
      : "<p id='earlier-orders'>该号码无历史工单（新来电人）</p>";
  }
  function renderStats(s) {
    if (!s) return;
    $("queue-stats").innerHTML = "排队 <b id='stat-waiting'>" + s.waiting + "</b> 人，最长等待 " + s.longest_wait_s + " 秒；已接 " + s.answered +
      "，" + s.threshold_s + " 秒内接通 " + s.answered_in_time + "，放弃 <b id='stat-abandoned'>" + s.abandoned + "</b>；平均应答 " + s.average_answer_s +
      " 秒；服务水平 " + (s.service_level_pct === null ? "—" : s.service_level_pct + "%") + "；坐席：空闲 " + (s.agents.available || 0) +
      "，通话 " + (s.agents.on_call || 0) + "，示忙 " + (s.agents.paused || 0) + "，话后 " + (s.agents.wrapup || 0);
  }
  function renderThreeParty(tp, message) {
    const box = $("three-party-state");
    if (!box) return;
    const labels = { joining: "正在呼叫单位…", two_party: "双方通话（单位未在线）", three_party: "三方通话中", citizen_and_unit: "市民与单位通话中（坐席已退出）", ended: "三方通话已结束" };
    box.textContent = tp ? (labels[tp.state] || tp.state) + (tp.unit_failure ? "：单位" + tp.unit_failure : "") : "";
    if (message) box.textContent += " " + message;
  }
  function renderWallboard(board) {
    renderStats(board.stats);
    const body = $("agents");
    if (!body) return;
    body.innerHTML = board.agents.map((a) => "<tr data-agent='" + escapeHtml(a.username) + "'><td>" + escapeHtml(a.username) + "</td><td>" +
      escapeHtml(a.state_label) + (a.paused_label ? "（" + escapeHtml(a.paused_label) + "）" : "") + "</td><td>" + escapeHtml(a.interface) +
      "</td><td>" + (a.call ? escapeHtml(a.call.phase_label + " " + a.call.caller_number) : "") + "</td><td>" + a.calls_taken +
      "</td><td><button data-act='pause'>强制示忙</button><button data-act='resume'>示闲</button><button data-act='listen'>监听</button></td></tr>").join("");
  }
  if (supervisorPage) {
    $("agents").addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      const who = encodeURIComponent(button.closest("tr").dataset.agent);
      const actions = {
        pause: () => act("POST", "/supervisor/agents/" + who + "/pause", { reason: "meeting" }),
        resume: () => act("POST", "/supervisor/agents/" + who + "/resume"),
        listen: () => act("POST", "/supervisor/agents/" + who + "/listen", { interface: $("listen-interface").value }),
      };
      actions[button.dataset.act]();
    });
  }

  // --- draft work order from the transcript (生成草稿) -----------------------------------------
  // Form inputs filled from a draft; on save each one's final value goes back as the agent's decision.
  const DRAFT_INPUTS = { kind: "order-kind", category: "order-category", name: "order-name", phones: "order-phone",
    summary: "order-content", address: "order-address", unit: "order-unit" };
  let draft = null;
  function clearDraft() {
    draft = null;
    Object.values(DRAFT_INPUTS).forEach((id) => { $(id).classList.remove("suggested"); $(id).title = ""; });
    $("draft-info").textContent = "";
  }
  async function makeDraft() {
    const live = finals.join("") + ($("transcript").querySelector(".partial") ? $("transcript").querySelector(".partial").textContent.replace(/…$/, "") : "");
    const said = $("draft-text").value.trim() || live.trim();
    if (!said) { showError("没有可用的转写内容，请先通话或粘贴文字"); return; }
    const made = await act("POST", "/drafts", { text: said, linkedid: $("draft-text").value.trim() ? null : transcriptCall });
    if (!made) return;
    clearDraft();
    draft = made;
    Object.entries(DRAFT_INPUTS).forEach(([field, id]) => {
      const f = made.fields[field];
      let value = field === "phones" ? (f.value[0] || "") : text(f.value);
      const el = $(id);
      if (!value) return;
      if (el.tagName === "SELECT" && !Array.from(el.options).some((o) => o.value === value)) return;
      el.value = value;
      el.classList.add("suggested");
      el.title = "草稿建议（置信度 " + Math.round(f.confidence * 100) + "%）" + (f.sources.length ? "，依据：" + f.sources.map((s) => s.text).join("、") : "");
    });
    $("draft-info").textContent = "已生成草稿 " + made.id + "，蓝色为建议值，请核对";
  }
  function draftDecisions() {
    return Object.entries(DRAFT_INPUTS).map(([field, id]) => {
      const value = $(id).value.trim();
      if (field === "phones") return { field, value: value ? [value] : [] };
      return { field, value: value || null };
    });
  }

  // --- the agent's controls ---------------------------------------------------------------
  async function loadLists() {
    const reasons = await act("GET", "/agent/pause-reasons");
    if (reasons) $("pause-reason").innerHTML = reasons.reasons.map((r) => "<option value='" + r.code + "'>" + escapeHtml(r.label) + "</option>").join("");
    const units = await act("GET", "/units");
    if (units) {
      const options = units.filter((u) => u.active).map((u) => "<option value='" + u.id + "'>" + escapeHtml(u.name) + (u.phone ? "（" + escapeHtml(u.phone) + "）" : "") + "</option>").join("");
      $("tp-unit").innerHTML = options;
      $("order-unit").innerHTML = "<option value=''>（稍后交办）</option>" + options;
    }
  }
  function prefillOrder(c) {
    if (!c) return;
    if (!$("order-phone").value) $("order-phone").value = c.caller_number || "";
    if (!$("order-name").value) $("order-name").value = c.caller_name || "";
  }
  const clickers = {
    "sign-in": () => act("POST", "/agent/login", { interface: $("interface").value }).then((a) => a && renderAgent(a)),
    "sign-out": () => act("POST", "/agent/logout").then((a) => a && renderAgent(a)),
    pause: () => act("POST", "/agent/pause", { reason: $("pause-reason").value }).then((a) => a && renderAgent(a)),
    resume: () => act("POST", "/agent/resume").then((a) => a && renderAgent(a)),
    hangup: () => act("POST", "/agent/hangup"),
    transfer: () => act("POST", "/agent/transfer", $("transfer-to").value === "agent" ? { to: "agent", extension: $("transfer-ext").value } : { to: "queue" }),
    "three-party": async () => {
      renderThreeParty({ state: "joining" });
      try { showError(""); renderThreeParty(await api("POST", "/agent/three-party", { unit_id: Number($("tp-unit").value) })); }
      catch (e) { renderThreeParty({ state: "two_party" }, e.message); showError(e.message); }
    },
    "tp-leave": () => act("POST", "/agent/three-party/leave").then((t) => t && renderThreeParty(t)),
    "tp-release": () => act("POST", "/agent/three-party/release-unit").then((t) => t && renderThreeParty(t)),
    "tp-retry": () => act("POST", "/agent/three-party/retry").then((t) => t && renderThreeParty(t)),
    "draft-make": makeDraft,
    "kb-search": async () => {
      const found = await act("GET", "/kb/search?q=" + encodeURIComponent($("kb-query").value));
      // title_html and snippet_html are escaped by the server, with <em> around the matched words
      $("kb-results").innerHTML = found ? found.hits.map((h) => "<p class='kb-hit'><b>" + h.title_html + "</b><br>" + h.snippet_html + "</p>").join("") || "未找到相关条目" : "";
    },
  };
  if (!supervisorPage) {
    Object.entries(clickers).forEach(([id, fn]) => $(id).addEventListener("click", (e) => { e.preventDefault(); fn(); }));
    $("order-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        channel: "phone", kind: $("order-kind").value, category: $("order-category").value,
        content: $("order-content").value, address: $("order-address").value,
        citizen: { name: $("order-name").value, phone: $("order-phone").value || null },
      };
      const order = await act("POST", "/orders", body);
      if (!order) return;
      let note = "已保存工单 " + order.number;
      if (body.category === "A" && $("order-answer").value) {
        const answered = await act("POST", "/orders/" + order.number + "/answer-on-call", { answer: $("order-answer").value });
        if (answered) note += "，已当场答复办结";
      } else if ($("order-unit").value) {
        const assigned = await act("POST", "/orders/" + order.number + "/assign", { lead_unit_id: Number($("order-unit").value) });
        note += assigned ? "，已交办" : "（交办需指挥中心审核）";
      }
      if (call) {
        const linked = await act("POST", "/agent/call-link", { order_number: order.number });
        if (linked) note += "，已关联通话录音 " + linked.recording;
      }
      if (draft) {
        const kept = await act("POST", "/drafts/" + draft.id + "/decisions", { order_number: order.number, fields: draftDecisions() });
        if (kept) note += "，草稿采纳 " + kept.decisions.filter((d) => d.decision === "accepted").length + " 项、修改 " + kept.decisions.filter((d) => d.decision === "corrected").length + " 项";
      }
      $("order-result").innerHTML = "<span id='order-number'>" + escapeHtml(note) + "</span>";
      $("order-form").reset();
      clearDraft();
      $("draft-text").value = "";
    });
  }
  if (token) start();
})();
