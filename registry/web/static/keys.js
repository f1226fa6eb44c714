// The workbench's keys (the pages work without them): j / k next and previous record of a list, a the approval
// form, r the rejection form, / the search. Keys typed into a field are the field's.
(function () {
  "use strict";
  function typing(target) {
    return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement || (target && target.isContentEditable);
  }
  function move(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("table.list a.open, table.list td:first-child a"));
    if (!links.length) { return false; }
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(Math.max(at + step, 0), links.length - 1);
    links[next].focus();
    return true;
  }
  function focus(selector) {
    var field = document.querySelector(selector);
    if (!field) { return false; }
    field.scrollIntoView({block: "center"});
    field.focus();
    return true;
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    var done = false;
    if (event.key === "j") { done = move(1); }
    else if (event.key === "k") { done = move(-1); }
    else if (event.key === "a") { done = focus("form[action$='/filing/approve'] input[name=filing_no]"); }
    else if (event.key === "r") { done = focus("form[action$='/filing/reject'] textarea[name=reasons]"); }
    else if (event.key === "/") {
      done = focus("#q") || focus("#f-brand");
      if (!done) { window.location.href = "/ui/products"; done = true; }
    }
    if (done) { event.preventDefault(); }
  });
})();
