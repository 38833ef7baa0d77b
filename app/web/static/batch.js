// 批量同意 (inbox 待办): 全选本页 ticks or clears every box of the page. Delegated on document, so it keeps
// working after htmx swaps the list (filters, pages); no inline handlers (strict CSP).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-check-all]");
  if (!button) {
    return;
  }
  var boxes = document.querySelectorAll('input[type=checkbox][form="' + button.dataset.checkAll + '"]');
  var tick = Array.prototype.some.call(boxes, function (box) { return !box.checked; });
  boxes.forEach(function (box) { box.checked = tick; });
});
