// Saves each field of the report page when the person leaves it (change), one request at a time, and shows
// "Đã lưu" or the server's error next to the field. Without this script each section's "Lưu" button saves it.
(function () {
  "use strict";
  var T = (document.getElementById("texts") || {dataset: {}}).dataset;  // the words, from conversations/texts.py
  var SAVED = T.saved, SAVING = T.saving, FAILED = T.failed;
  document.documentElement.classList.add("js");
  var chain = Promise.resolve();

  function statusOf(box) { return box.querySelector(":scope > .status"); }

  function show(box, text, kind) {
    var st = statusOf(box);
    if (!st) return;
    st.textContent = text;
    st.className = "status" + (kind ? " " + kind : "");
    box.classList.toggle("bad", kind === "error");
  }

  function payload(el, box, csrf) {
    var data = new FormData(), name = el.name;
    data.append("csrf", csrf);
    if (el.type === "checkbox") {
      var boxes = box.querySelectorAll('input[type=checkbox]'), any = false;
      boxes.forEach(function (c) { if (c.checked) { data.append(c.name, c.value); any = true; } });
      if (!any) data.append(name, "");
    } else if (el.type === "radio") {
      var on = box.querySelector("input[type=radio]:checked");
      data.append(name, on ? on.value : "");
    } else if (el.type === "file") {
      if (!el.files.length) return null;
      data.append(name, el.files[0], el.files[0].name || "anh.jpg");
    } else {
      data.append(name, el.value);
    }
    return data;
  }

  function renumber(item, sent, real) {
    var from = sent.match(/\[new\]/) ? "[new]" : null;
    var n = real.match(/\[(\d+)\]/);
    if (!from || !n || !item) return;
    var to = "[" + n[1] + "]";
    item.dataset.item = n[1];
    item.querySelectorAll("[name],[data-path]").forEach(function (e) {
      if (e.name) e.name = e.name.replace(from, to);
      if (e.dataset.path) e.dataset.path = e.dataset.path.replace(from, to);
    });
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
    if (box && res.missing) {
      box.textContent = "";
      if (res.missing.length) {
        var h = document.createElement("h2"), ul = document.createElement("ul");
        h.textContent = T.missing + " (" + res.missing.length + ")";
        res.missing.forEach(function (m) { var li = document.createElement("li"); li.textContent = m; ul.appendChild(li); });
        box.appendChild(h); box.appendChild(ul);
      } else {
        var p = document.createElement("p");
        p.textContent = T.complete;
        box.appendChild(p);
      }
    }
  }

  function save(el) {
    var box = el.closest("[data-path]"), form = el.closest("form");
    if (!box || !form || !el.name) return;
    show(box, SAVING, "");
    chain = chain.then(function () {
      var csrf = form.querySelector("input[name=csrf]").value, sent = el.name;
      var data = payload(el, box, csrf);
      if (!data) return null;
      return fetch("/web/luu", {method: "POST", body: data, credentials: "same-origin",
                                headers: {"Accept": "application/json", "X-CSRF-Token": csrf}})
        .then(function (r) { return r.json(); })
        .then(function (res) {
          var path = box.dataset.path;
          var error = (res.errors || {})[sent] || (res.errors || {})[path];
          if (error) { show(box, error, "error"); return; }
          if (res.message && !Object.keys(res.saved || {}).length) { show(box, res.message, "error"); return; }
          var real = (res.saved || {})[sent];
          if (real && real !== sent) renumber(el.closest("fieldset.item"), sent, real);
          var note = (res.notes || {})[sent];
          show(box, note ? SAVED + ". " + note : SAVED, note ? "warn" : "ok");
          live(res);
          if (res.reload) {  // another question's options depend on this answer: the page as the server sees it
            var item = el.closest("fieldset.item"), part = el.closest("section.part");
            location.replace(location.pathname + "#" + (part ? part.id : ""));
            location.reload();
          }
        })
        .catch(function () { show(box, FAILED, "error"); });
    });
  }

  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("input, textarea, select")) save(el);
  });
})();
