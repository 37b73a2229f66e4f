// Saves each field of the report page when the person leaves it (change), one request at a time, and shows
// "Đã lưu" or the server's error next to the field. Nothing typed is lost: what is typed is kept in sessionStorage
// until the server has answered for it; when the page is hidden (screen locked, tab switched or closed) the field
// being typed in is sent at once with a keepalive request; kept values are sent again when the page is shown again
// or the connection comes back. Without this script each section's "Lưu" button saves it.
(function () {
  "use strict";
  var T = (document.getElementById("texts") || {dataset: {}}).dataset;  // the words, from conversations/texts.py
  var KEY = "hcc-web-unsaved-" + (T.scope || "");
  var DAY = 24 * 3600 * 1000;
  var TYPED = /^(text|tel|date|time|datetime-local|number|email|url|search)$/;
  document.documentElement.classList.add("js");
  var chain = Promise.resolve(), busy = 0;
  var sent = {};  // field name -> the value last sent for it (so a value is sent once)

  // -- what is not saved yet, kept in the tab's sessionStorage ------------------------------------------------

  function unsaved() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; }
  }

  function keep(name, value) {  // value null: the server answered for this field
    var all = unsaved();
    if (value === null) delete all[name]; else all[name] = {v: value, at: Date.now()};
    try { sessionStorage.setItem(KEY, JSON.stringify(all)); } catch (e) { /* private mode: nothing kept */ }
  }

  function typed(el) {
    return !!el && !!el.name && !el.disabled && !!el.closest && !!el.closest("form.part-form") &&
      (el.tagName === "TEXTAREA" || el.tagName === "INPUT" && TYPED.test(el.type));
  }

  // -- what is shown next to a field ---------------------------------------------------------------------------

  function statusOf(box) { return box.querySelector(":scope > .status"); }

  function inputsOf(box) {
    return Array.prototype.filter.call(box.querySelectorAll("input, textarea"),
                                       function (i) { return i.closest("[data-path]") === box; });
  }

  function show(box, text, kind) {
    var st = statusOf(box);
    if (!st) return;
    st.textContent = text;
    st.className = "status" + (kind ? " " + kind : "");
    box.classList.toggle("bad", kind === "error");
    inputsOf(box).forEach(function (i) {  // a refused value: the input says so, its error describes it
      if (kind === "error") i.setAttribute("aria-invalid", "true"); else i.removeAttribute("aria-invalid");
    });
  }

  function failure(err, file) {
    var status = err && err.status;
    if (!status) return file ? T.photoFailed : T.failed;  // no answer at all: the connection
    if (status === 401) return T.signedOut;
    if (status === 403) return T.csrf;
    if (status === 413) return T.tooLarge;
    if (status >= 500) return (T.server || "").replace("{status}", status);
    return (T.http || "").replace("{status}", status);
  }

  function retryable(err) {  // kept to send again; a 401 too: a new link opened in this tab sends it
    var status = err && err.status;
    return !status || status >= 500 || status === 401 || status === 408 || status === 429;
  }

  // -- one save ---------------------------------------------------------------------------------------------------

  function pairs(el, box) {
    var out = [], name = el.name;
    if (el.type === "checkbox") {
      box.querySelectorAll("input[type=checkbox]").forEach(function (c) { if (c.checked) out.push([c.name, c.value]); });
      if (!out.length) out.push([name, ""]);
    } else if (el.type === "radio") {
      var on = box.querySelector("input[type=radio]:checked");
      out.push([name, on ? on.value : ""]);
    } else if (el.type === "file") {
      if (!el.files.length) return null;
      out.push([name, el.files[0]]);
    } else {
      out.push([name, el.value]);
    }
    return out;
  }

  function send(list, csrf, file) {
    var body;
    if (file) {
      body = new FormData();
      body.append("csrf", csrf);
      list.forEach(function (p) { body.append(p[0], p[1], p[1].name || "anh.jpg"); });
    } else {  // small: urlencoded, and keepalive, so it is delivered even if the page goes away meanwhile
      body = new URLSearchParams();
      body.append("csrf", csrf);
      list.forEach(function (p) { body.append(p[0], p[1]); });
    }
    return fetch("/web/luu", {method: "POST", body: body, credentials: "same-origin", keepalive: !file,
                              headers: {"Accept": "application/json", "X-CSRF-Token": csrf}})
      .then(function (r) {
        if ((r.headers.get("Content-Type") || "").indexOf("application/json") < 0) throw {status: r.status};
        return r.json().then(function (res) { res.status = r.status; return res; });
      });
  }

  function renumber(item, sent, real) {
    var from = sent.match(/\[new\]/) ? "[new]" : null;
    var n = real.match(/\[(\d+)\]/);
    if (!from || !n || !item) return;
    var to = "[" + n[1] + "]";
    item.dataset.item = n[1];
    var add = document.querySelector('a.add[data-add="' + item.dataset.section + '"]');
    if (add) add.hidden = false;  // the item exists now: another may be added
    item.querySelectorAll("[name],[data-path]").forEach(function (e) {
      if (e.name) {
        var old = e.name;
        e.name = old.replace(from, to);
        var kept = unsaved()[old];
        if (kept) { keep(old, null); keep(e.name, kept.v); }
      }
      if (e.dataset.path) e.dataset.path = e.dataset.path.replace(from, to);
    });
  }

  function missingList(box, list) {
    box.textContent = "";
    if (list.length) {
      var h = document.createElement("h2"), ul = document.createElement("ul");
      h.textContent = T.missing + " (" + list.length + ")";
      list.forEach(function (m) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = m.href;
        a.textContent = m.text;
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(h);
      box.appendChild(ul);
    } else {
      var p = document.createElement("p");
      p.textContent = T.complete;
      box.appendChild(p);
    }
  }

  function live(res) {
    var hidden = {};
    (res.hidden || []).forEach(function (p) { hidden[p] = true; });
    document.querySelectorAll("[data-path]").forEach(function (e) {
      if (e.dataset.path.indexOf("[new]") < 0) e.hidden = !!hidden[e.dataset.path];
    });
    Object.keys(res.calc || {}).forEach(function (p) {
      var out = document.querySelector('output[data-calc="' + p + '"]');
      if (out) out.textContent = res.calc[p];
    });
    var box = document.getElementById("missing");
    if (box && res.missing) missingList(box, res.missing);
  }

  function answered(el, box, name, res) {
    var errors = res.errors || {}, saved = res.saved || {};
    var error = errors[name] || errors[box.dataset.path];
    if (typed(el)) keep(name, null);  // the server has it, or has refused it with its reason
    if (error) { show(box, error, "error"); return; }
    if (res.status >= 500 || res.message && !Object.keys(saved).length) {
      if (res.status >= 500 && typed(el)) { keep(name, el.value); delete sent[name]; }
      show(box, res.message, "error");
      return;
    }
    var real = saved[name];
    if (real && real !== name) renumber(el.closest("fieldset.item"), name, real);
    var note = (res.notes || {})[name];
    show(box, note ? T.saved + ". " + note : T.saved, note ? "warn" : "ok");
    live(res);
    if (res.reload) {  // another question's options depend on this answer: the page as the server sees it
      var part = el.closest("section.part");
      location.replace(location.pathname + "#" + (part ? part.id : ""));
      location.reload();
    }
  }

  function save(el) {
    var box = el.closest("[data-path]"), form = el.closest("form");
    if (!box || !form || !el.name) return;
    var file = el.type === "file";
    if (typed(el)) { keep(el.name, el.value); sent[el.name] = el.value; }
    show(box, T.saving, "");
    busy += 1;
    chain = chain.then(function () {
      var csrf = form.querySelector("input[name=csrf]").value, name = el.name;  // the name after a renumbering
      var list = pairs(el, box);
      if (!list) return null;
      return send(list, csrf, file).then(function (res) { answered(el, box, name, res); }, function (err) {
        if (typed(el)) {
          if (retryable(err)) delete sent[name]; else keep(name, null);  // a refusal: sending again will not help
        }
        show(box, failure(err, file), "error");
      });
    }).then(function () { busy -= 1; }, function () { busy -= 1; });
  }

  // -- the page hidden or closed: what is being typed goes now --------------------------------------------------

  function flush() {
    var el = document.activeElement;
    if (!typed(el) || sent[el.name] === el.value) return;
    if (busy && el.name.indexOf("[new]") < 0) {  // not behind the save under way: the page may be going away
      var box = el.closest("[data-path]"), form = el.closest("form"), name = el.name;
      keep(name, el.value);
      sent[name] = el.value;
      send([[name, el.value]], form.querySelector("input[name=csrf]").value, false)
        .then(function (res) { answered(el, box, name, res); },
              function (err) { if (retryable(err)) delete sent[name]; show(box, failure(err, false), "error"); });
    } else {
      save(el);  // chained: a new item's next field needs the item's number first
    }
  }

  // -- kept values sent again --------------------------------------------------------------------------------------

  function resend(fresh) {
    if (busy || navigator.onLine === false) return;
    var all = unsaved();
    Object.keys(all).forEach(function (name) {
      var el = document.getElementsByName(name)[0], kept = all[name];
      if (!typed(el) || Date.now() - kept.at > DAY) { keep(name, null); return; }
      if (fresh) {  // a new page shows what the server has: kept values it has already are done
        if (el.value === kept.v) { keep(name, null); return; }
        el.value = kept.v;
      } else if (el === document.activeElement) {
        return;  // still being typed: sent when left
      }
      save(el);
    });
  }

  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("input, textarea, select") || !el.closest("form.part-form")) return;
    if (typed(el) && sent[el.name] === el.value) return;  // sent already (when the page was hidden)
    save(el);
  });
  document.addEventListener("input", function (e) {  // kept as typed, until the server has it
    if (typed(e.target)) keep(e.target.name, e.target.value);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush(); else resend(false);
  });
  window.addEventListener("pagehide", flush);
  window.addEventListener("pageshow", function (e) { if (e.persisted) resend(false); });
  window.addEventListener("online", function () { resend(false); });

  // A form sent while saves are under way (Xoá, Nộp báo cáo): sent once they are done.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!busy || form.dataset.waited || !form.requestSubmit) return;
    e.preventDefault();
    var by = e.submitter;
    chain.then(function () { form.dataset.waited = "1"; form.requestSubmit(by && by.form === form ? by : undefined); });
  });

  // A summary of errors (a save without the script, "Nộp báo cáo" refused): focused; its links focus their field.
  var summary = document.getElementById("summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[href^='#']"), target = a && document.getElementById(a.hash.slice(1));
      if (target && target.focus && target.matches("input, textarea")) { e.preventDefault(); target.focus(); target.scrollIntoView({block: "center"}); }
    });
  }
  resend(true);
})();
