// The form widgets' script island (app/web/forms.py picks the widgets, _macros.html draws them).
// Everything works without it: codes are typed, rows added and removed by submit buttons. With it:
// - a picker's choice fills its code field and shows what was chosen and the balance after this request;
// - a line editor adds, copies and removes rows in place and keeps the running total.
// Listeners sit on the document, so rows and pages that htmx swaps in work without binding again.

const yuan = new Intl.NumberFormat("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function amountOf(text) {
  const value = Number(String(text || "").replace(/[,\s，]/g, ""));
  return Number.isFinite(value) ? value : 0;
}

// --- pickers ------------------------------------------------------------------------------------------

function codeInput(picker) {
  return document.getElementById(picker.dataset.for);
}

function showBalance(picker) {
  const box = picker.querySelector(".pick-balance");
  if (!box || picker.dataset.available === undefined) return;
  const amountField = picker.dataset.amountField;
  const amount = amountField ? amountOf(document.getElementById("f-" + amountField)?.value) : 0;
  const left = amountOf(picker.dataset.available) - amount;
  box.hidden = false;
  box.classList.toggle("pick-short", left < 0);
  box.textContent = amountField
    ? `可用 ${yuan.format(amountOf(picker.dataset.available))} 元，本次申请后剩 ${yuan.format(left)} 元`
      + (left < 0 ? "（不足）" : "")
    : `可用 ${yuan.format(amountOf(picker.dataset.available))} 元`;
}

function choose(option) {
  const picker = option.closest(".picker");
  const input = codeInput(picker);
  if (!input) return;
  const chosen = picker.querySelector(".pick-chosen");
  const detail = option.querySelector(".pick-detail")?.textContent || "";
  if (picker.dataset.multi) {  // 加签, 抄送: several people, the login names comma-separated
    const names = input.value.split(/[\s,，、;；]+/).filter(Boolean);
    if (!names.includes(option.dataset.value)) names.push(option.dataset.value);
    input.value = names.join(", ");
    chosen.textContent = (chosen.textContent ? chosen.textContent + "、" : "已选：") + option.dataset.label;
  } else {
    input.value = option.dataset.value;
    chosen.textContent = `已选：${option.dataset.label}${detail ? "（" + detail + "）" : ""}`;
  }
  input.dispatchEvent(new Event("change", { bubbles: true }));
  if (option.dataset.available !== undefined) {
    picker.dataset.available = option.dataset.available;
    showBalance(picker);
  }
  picker.querySelector(".pick-results").replaceChildren();
  const search = picker.querySelector(".pick-search");
  if (search) search.value = "";
}

function balancesAfter(amountInput) {
  const name = amountInput.name;
  document.querySelectorAll(`.picker[data-amount-field="${CSS.escape(name)}"]`).forEach(showBalance);
}

// --- line editor --------------------------------------------------------------------------------------

function renumber(editor) {
  editor.querySelectorAll(".line-rows > .line-row").forEach((row, n) => {
    const no = row.querySelector(".line-no");
    if (no) no.textContent = `第 ${n + 1} 行`;
  });
}

function total(editor) {
  const column = editor.dataset.total;
  const out = editor.querySelector(".line-sum");
  if (!column || !out) return;
  let sum = 0;
  editor.querySelectorAll(".line-rows > .line-row").forEach((row) => {
    const cell = row.querySelector(`[name$="-${CSS.escape(column)}"]`);
    if (cell) sum += amountOf(cell.value);
  });
  out.textContent = yuan.format(sum);
}

function newRow(editor) {
  const index = Number(editor.dataset.next || 0);
  editor.dataset.next = String(index + 1);
  const template = editor.querySelector("template.line-template");
  const html = template.innerHTML.replaceAll("__i__", String(index));
  const holder = document.createElement("ol");
  holder.innerHTML = html;
  const row = holder.firstElementChild;
  row.querySelectorAll(".line-copy").forEach((b) => { b.hidden = false; });
  editor.querySelector(".line-rows").append(row);
  if (window.htmx) window.htmx.process(row);
  return row;
}

function cellName(input) {
  return input.name.replace(/^[a-z0-9_]+-\d+-/, "");
}

function copyRow(row) {
  const editor = row.closest(".field-lines");
  const copy = newRow(editor);
  const values = new Map();
  row.querySelectorAll("input[name], select[name], textarea[name]").forEach((el) => {
    if (el.form === null && el.name === "q") return;
    values.set(cellName(el), el.type === "checkbox" ? el.checked : el.value);
  });
  copy.querySelectorAll("input[name], select[name], textarea[name]").forEach((el) => {
    const value = values.get(cellName(el));
    if (value === undefined || (el.form === null && el.name === "q")) return;
    if (el.type === "checkbox") el.checked = value; else el.value = value;
  });
  row.querySelectorAll(".pick-chosen").forEach((chosen, n) => {
    const target = copy.querySelectorAll(".pick-chosen")[n];
    if (target) target.textContent = chosen.textContent;
  });
  renumber(editor);
  total(editor);
  copy.querySelector("input, select")?.focus();
}

function removeRow(row) {
  const editor = row.closest(".field-lines");
  row.remove();
  if (!editor.querySelector(".line-rows > .line-row")) newRow(editor);
  renumber(editor);
  total(editor);
}

// --- wiring -------------------------------------------------------------------------------------------

function init(root) {
  root.querySelectorAll(".line-copy").forEach((b) => { b.hidden = false; });
  root.querySelectorAll(".field-lines").forEach(total);
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (!target) return;
  if (target.classList.contains("pick-option")) {
    event.preventDefault();
    choose(target);
  } else if (target.classList.contains("line-add")) {
    event.preventDefault();
    const editor = target.closest(".field-lines");
    const row = newRow(editor);
    renumber(editor);
    row.querySelector("input, select")?.focus();
  } else if (target.classList.contains("line-copy")) {
    event.preventDefault();
    copyRow(target.closest(".line-row"));
  } else if (target.classList.contains("line-remove")) {
    event.preventDefault();
    removeRow(target.closest(".line-row"));
  }
});

document.addEventListener("input", (event) => {
  const el = event.target;
  if (!(el instanceof HTMLInputElement)) return;
  const editor = el.closest(".field-lines");
  if (editor) total(editor);
  if (el.name) balancesAfter(el);
});

// A picker searches the unit chosen on the form (申请单位), when the form offers a choice.
document.addEventListener("htmx:configRequest", (event) => {
  const search = event.detail.elt;
  if (!search.classList?.contains("pick-search")) return;
  const org = search.closest("form")?.querySelector("select[name=org]");
  if (org && org.value) event.detail.parameters.org = org.value;
});

document.addEventListener("DOMContentLoaded", () => init(document));
document.addEventListener("htmx:load", (event) => init(event.target));
