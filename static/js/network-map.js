// The network map (DESIGN §4): drawn with cytoscape.js from /api/v1/network/graph/.
// Colour by community or node type, size by importance, line width by strength,
// filters by team, goal and strength, search for a person, click to open a page.
// Everything the page shows comes from textContent or the canvas: names are user
// input and never become HTML.
(function () {
  "use strict";

  // The same palette as the .swatch-c* classes in css/cytoscape.css (colour-blind safe).
  const COMMUNITY_COLOURS = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d37295",
  ];
  const NO_COMMUNITY = "#adb5bd";
  const TYPE_COLOURS = { user: "#0d6efd", stakeholder: "#20c997" };
  const USER_SIZE = 30;
  // More entries than colours would only repeat swatches.
  const LEGEND_MAX = COMMUNITY_COLOURS.length;
  // Figures in the page's language ("0,30" in Dutch).
  const decimals = (value, places) =>
    value.toLocaleString(document.documentElement.lang || undefined, {
      minimumFractionDigits: places,
      maximumFractionDigits: places,
    });

  const container = document.getElementById("network-canvas");
  if (!container || typeof cytoscape === "undefined") return;
  const text = container.dataset;
  const filters = document.getElementById("network-filters");
  const status = document.getElementById("network-status");
  const legend = document.getElementById("network-legend");
  const selection = document.getElementById("network-selection");
  const tableBody = document.querySelector("#network-table tbody");
  const names = document.getElementById("network-node-names");
  const searchForm = document.getElementById("network-search");
  const searchInput = document.getElementById("network-search-input");
  const strengthInput = filters.elements.namedItem("strength");
  const strengthOutput = document.getElementById("min-strength-value");
  const colourSelect = filters.elements.namedItem("colour");

  const cy = cytoscape({
    container,
    elements: [],
    minZoom: 0.05,
    maxZoom: 4,
    style: [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "font-size": 10,
          "text-valign": "bottom",
          "text-margin-y": 3,
          "min-zoomed-font-size": 7,
          color: "#212529",
          width: "data(size)",
          height: "data(size)",
          "background-color": "data(colour)",
          "border-width": "data(border)",
          "border-color": "#212529",
        },
      },
      { selector: "node[type = 'user']", style: { shape: "round-rectangle" } },
      {
        selector: "edge",
        style: {
          width: "data(width)",
          "line-color": "#adb5bd",
          opacity: 0.7,
          "curve-style": "haystack",
        },
      },
      { selector: ".faded", style: { opacity: 0.12 } },
      {
        selector: "node.highlighted",
        style: { "border-width": 6, "border-color": "#ffc107", "z-index": 10 },
      },
    ],
  });
  // Tests and the console reach the graph here.
  window.rapportNetwork = cy;

  function setStatus(message, tone) {
    status.textContent = message || "";
    status.className = `small mb-2${tone ? ` text-${tone}-emphasis` : ""}`;
  }

  function colourOf(data, mode) {
    if (mode === "type") return TYPE_COLOURS[data.type];
    if (data.community === null || data.community === undefined) return NO_COMMUNITY;
    return COMMUNITY_COLOURS[data.community % COMMUNITY_COLOURS.length];
  }

  function swatchClass(community) {
    return community === null || community === undefined
      ? "swatch-none"
      : `swatch-c${community % COMMUNITY_COLOURS.length}`;
  }

  function legendItem(swatchClasses, label) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${swatchClasses}`;
    swatch.setAttribute("aria-hidden", "true");
    item.append(swatch, document.createTextNode(label));
    return item;
  }

  function drawLegend(mode) {
    const items = [];
    if (mode === "type") {
      items.push(legendItem("swatch-user swatch-square", text.labelColleague));
      items.push(legendItem("swatch-stakeholder", text.labelStakeholder));
      items.push(legendItem("swatch-stakeholder swatch-key", text.labelKey));
    } else {
      const counts = new Map();
      cy.nodes().forEach((node) => {
        const community = node.data("community");
        const key = community === null || community === undefined ? null : community;
        counts.set(key, (counts.get(key) || 0) + 1);
      });
      Array.from(counts.entries())
        .sort((a, b) => b[1] - a[1])
        .slice(0, LEGEND_MAX)
        .forEach(([community, count]) => {
          const label =
            community === null ? text.labelNoCommunity : `${text.labelCommunity} ${community + 1}`;
          items.push(legendItem(swatchClass(community), `${label} (${count})`));
        });
      items.push(legendItem("swatch-none swatch-key", text.labelKey));
    }
    legend.replaceChildren(...items);
  }

  function recolour() {
    const mode = colourSelect.value || "community";
    cy.batch(() => {
      cy.nodes().forEach((node) => node.data("colour", colourOf(node.data(), mode)));
    });
    drawLegend(mode);
  }

  function cell(content, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.append(content);
    return td;
  }

  function drawTable(nodes) {
    const rows = nodes
      .slice()
      .sort((a, b) => (b.betweenness ?? -1) - (a.betweenness ?? -1))
      .map((node) => {
        const tr = document.createElement("tr");
        let name = document.createTextNode(node.label);
        if (node.url) {
          name = document.createElement("a");
          name.href = node.url;
          name.textContent = node.label;
        }
        const th = document.createElement("th");
        th.scope = "row";
        th.append(name);
        tr.append(
          th,
          cell(node.type === "user" ? text.labelColleague : node.key ? text.labelKey : text.labelStakeholder),
          cell(node.betweenness === null ? "—" : decimals(node.betweenness, 3), "text-end"),
          cell(node.constraint === null ? "—" : decimals(node.constraint, 2), "text-end"),
          cell(node.community === null ? "—" : String(node.community + 1)),
        );
        return tr;
      });
    tableBody.replaceChildren(...rows);
    const labels = Array.from(new Set(nodes.map((n) => n.label))).sort();
    names.replaceChildren(...labels.map((label) => new Option(label)));
  }

  function draw(body) {
    const mode = colourSelect.value || "community";
    const ids = new Set(body.nodes.map((n) => n.id));
    const elements = body.nodes.map((node) => ({
      group: "nodes",
      data: {
        ...node,
        size: node.type === "user" ? USER_SIZE : 16 + 8 * (node.importance || 1),
        border: node.key ? 3 : 0,
        colour: colourOf(node, mode),
      },
    }));
    body.edges.forEach((edge, i) => {
      if (!ids.has(edge.source) || !ids.has(edge.target)) return;
      elements.push({
        group: "edges",
        data: { id: `e${i}`, ...edge, width: 1 + 7 * edge.strength },
      });
    });
    cy.elements().remove();
    cy.add(elements);
    cy.layout({
      name: "cose",
      animate: false,
      randomize: true,
      // Stronger ties pull their ends closer together.
      idealEdgeLength: (edge) => 40 + 100 * (1 - edge.data("strength")),
      nodeRepulsion: () => 40000,
      nodeOverlap: 20,
      padding: 30,
    }).run();
    cy.fit(undefined, 30);
    drawLegend(mode);
    drawTable(body.nodes);
    if (!body.nodes.length) setStatus(text.labelEmpty, "secondary");
    else if (body.truncated) setStatus(body.message, "warning");
    else setStatus("");
    selection.textContent = "";
    container.dataset.ready = "1";
  }

  function query() {
    const params = new URLSearchParams();
    ["team", "goal"].forEach((name) => {
      const value = filters.elements.namedItem(name).value;
      if (value) params.set(name, value);
    });
    // The slider reads 0–100 (DESIGN §5b); the graph API takes 0–1.
    if (strengthInput && strengthInput.value) {
      params.set("min_strength", String(Number(strengthInput.value) / 100));
    }
    return params;
  }

  let inFlight = null;

  function load(keepAddress) {
    const params = query();
    if (!keepAddress) {
      // The filtered map stays bookmarkable.
      const address = new URLSearchParams(params);
      address.delete("min_strength");
      if (strengthInput && strengthInput.value) address.set("strength", strengthInput.value);
      if (colourSelect.value) address.set("colour", colourSelect.value);
      history.replaceState(null, "", `${window.location.pathname}?${address}`);
    }
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    container.dataset.ready = "";
    setStatus(text.labelLoading, "secondary");
    fetch(`${container.dataset.graphUrl}?${params}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: inFlight.signal,
    })
      .then((response) =>
        response.json().then((body) => {
          if (response.ok) return draw(body);
          cy.elements().remove();
          drawTable([]);
          const reason = body.detail || Object.values(body).flat().join(" ");
          setStatus(reason || response.statusText, "warning");
          return undefined;
        }),
      )
      .catch((error) => {
        if (error.name !== "AbortError") setStatus(String(error), "danger");
      });
  }

  function clearHighlight() {
    cy.elements().removeClass("faded highlighted");
  }

  function highlight(node) {
    clearHighlight();
    cy.elements().not(node.closedNeighborhood()).addClass("faded");
    node.addClass("highlighted");
    const data = node.data();
    selection.textContent = data.url ? data.label : `${data.label}: ${text.labelNoPage}`;
  }

  function find(raw) {
    const wanted = raw.trim().toLowerCase();
    if (!wanted) return null;
    const nodes = cy.nodes().toArray();
    const label = (n) => String(n.data("label")).toLowerCase();
    return (
      nodes.find((n) => label(n) === wanted) ||
      nodes.find((n) => label(n).startsWith(wanted)) ||
      nodes.find((n) => label(n).includes(wanted)) ||
      null
    );
  }

  cy.on("tap", "node", (event) => {
    const node = event.target;
    const url = node.data("url");
    // Only our own pages: the graph API gives site-relative stakeholder addresses.
    if (url && url.startsWith("/") && !url.startsWith("//")) {
      window.location.assign(url);
      return;
    }
    highlight(node);
  });
  cy.on("tap", (event) => {
    if (event.target === cy) {
      clearHighlight();
      selection.textContent = "";
    }
  });

  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const node = find(searchInput.value);
    if (!node) {
      setStatus(`${text.labelNotFound} “${searchInput.value.trim()}”.`, "warning");
      return;
    }
    setStatus("");
    highlight(node);
    cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1.2) }, { duration: 250 });
  });

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  filters.addEventListener("change", (event) => {
    if (event.target === colourSelect) {
      recolour();
      const address = new URLSearchParams(window.location.search);
      address.set("colour", colourSelect.value);
      history.replaceState(null, "", `${window.location.pathname}?${address}`);
    } else {
      load(false);
    }
  });
  if (strengthInput && strengthOutput) {
    strengthInput.addEventListener("input", () => {
      // "30 weak": the number and band word every page shows (DESIGN §5b).
      const points = Number(strengthInput.value);
      const bands = strengthOutput.dataset;
      const band =
        points >= Number(bands.strongFrom)
          ? bands.strong
          : points >= Number(bands.fairFrom)
            ? bands.fair
            : bands.weak;
      strengthOutput.textContent = `${decimals(points, 0)}\u00a0${band}`;
    });
  }

  load(true);
})();
