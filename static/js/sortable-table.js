// Progressive enhancement for tables marked data-module="app-sortable-table" (the
// _components/table.html include): each column header with data-sortable becomes a button that
// sorts the rows and says so with aria-sort. Without JavaScript the table is the server's order.
// Cells may carry data-sort-value (e.g. an ISO date or a number) to sort by instead of the text.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var raw = cell.getAttribute("data-sort-value");
    return raw !== null ? raw : cell.textContent.trim();
  }

  function compare(a, b) {
    var na = parseFloat(a), nb = parseFloat(b);
    if (!isNaN(na) && !isNaN(nb) && String(na) === a.replace(/%$/, "") && String(nb) === b.replace(/%$/, "")) {
      return na - nb;
    }
    return a.localeCompare(b, document.documentElement.lang || "en", { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, header, index) {
    var direction = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var headers = table.querySelectorAll("thead th[data-sortable]");
    for (var i = 0; i < headers.length; i++) headers[i].setAttribute("aria-sort", "none");
    header.setAttribute("aria-sort", direction);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var result = compare(cellValue(r1, index), cellValue(r2, index));
      return direction === "ascending" ? result : -result;
    });
    for (var j = 0; j < rows.length; j++) body.appendChild(rows[j]);
    var status = table.parentNode.querySelector("[data-sort-status]");
    if (status) {
      status.textContent = header.textContent.trim() + ": " + (direction === "ascending"
        ? status.getAttribute("data-ascending") : status.getAttribute("data-descending"));
    }
  }

  function enhance(table) {
    var headers = table.querySelectorAll("thead th[data-sortable]");
    Array.prototype.forEach.call(headers, function (header) {
      var index = header.cellIndex;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "app-sort-button";
      button.textContent = header.textContent.trim();
      header.textContent = "";
      header.appendChild(button);
      if (!header.hasAttribute("aria-sort")) header.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { sortBy(table, header, index); });
    });
  }

  var tables = document.querySelectorAll('table[data-module="app-sortable-table"]');
  Array.prototype.forEach.call(tables, enhance);
})();
