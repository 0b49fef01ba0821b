// Rapport's browser behaviour. Progressive enhancement only: every form also
// works as a plain HTML form without this script.
(function () {
  "use strict";

  // Type-ahead pickers: a <select data-autocomplete-url> becomes a Tom Select
  // whose options come from a small JSON endpoint (only what the user may see).
  function initPicker(select) {
    if (select.tomselect || typeof TomSelect === "undefined") return;
    const url = select.dataset.autocompleteUrl;
    // Tom Select points the <label> at its own input; the hidden original keeps a
    // name of its own, so that no control is left unlabelled.
    const label = select.labels && select.labels.length ? select.labels[0].textContent.trim() : "";
    if (label) select.setAttribute("aria-label", label);
    new TomSelect(select, {
      plugins: select.multiple ? ["remove_button"] : [],
      valueField: "value",
      labelField: "text",
      searchField: ["text"],
      allowEmptyOption: !select.multiple,
      closeAfterSelect: true,
      maxOptions: 50,
      preload: "focus",
      load(query, callback) {
        fetch(`${url}?q=${encodeURIComponent(query)}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((body) => callback(body.results))
          .catch(() => callback());
      },
      onItemAdd() {
        this.setTextboxValue("");
        this.refreshOptions(false);
      },
    });
  }

  // The commitment rows offer the stakeholders picked for the interaction.
  function stakeholderOptions(form) {
    const picker = form.querySelector("select[data-stakeholder-picker]");
    if (!picker) return [];
    return Array.from(picker.selectedOptions).map((o) => [o.value, o.textContent]);
  }

  function syncCommitmentStakeholders(form) {
    const options = stakeholderOptions(form);
    const selects = form.querySelectorAll("select[name^='commitments-'][name$='-stakeholder']");
    selects.forEach((select) => {
      const current = select.value;
      const first = select.options[0];
      select.replaceChildren(first);
      options.forEach(([value, text]) => select.add(new Option(text, value)));
      select.value = options.some(([value]) => value === current) ? current : "";
    });
    const template = form.querySelector("#commitment-empty-form");
    if (template) {
      template.content
        .querySelectorAll("select[name$='-stakeholder']")
        .forEach((select) => {
          const first = select.options[0];
          select.replaceChildren(first);
          options.forEach(([value, text]) => select.add(new Option(text, value)));
        });
    }
  }

  function initInteractionForm(form) {
    if (form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    const picker = form.querySelector("select[data-stakeholder-picker]");
    if (picker) picker.addEventListener("change", () => syncCommitmentStakeholders(form));

    const addButton = form.querySelector("#add-commitment");
    const template = form.querySelector("#commitment-empty-form");
    const total = form.querySelector("input[name='commitments-TOTAL_FORMS']");
    const max = form.querySelector("input[name='commitments-MAX_NUM_FORMS']");
    if (addButton && template && total) {
      addButton.hidden = false;
      addButton.addEventListener("click", () => {
        const index = parseInt(total.value, 10);
        if (max && index >= parseInt(max.value, 10)) return;
        const html = template.innerHTML.replace(/__prefix__/g, String(index));
        const holder = document.createElement("div");
        holder.innerHTML = html;
        const row = holder.firstElementChild;
        form.querySelector("#commitment-forms").appendChild(row);
        total.value = String(index + 1);
        const description = row.querySelector("input[name$='-description']");
        if (description) description.focus();
      });
    }
    const errors = form.querySelector("#form-errors");
    if (errors) errors.focus();
  }

  // The language switcher changes language as soon as one is chosen; its button
  // stays for browsers without this script.
  function initLanguageSwitcher(form) {
    if (form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    const select = form.querySelector("select[name='language']");
    const button = form.querySelector("[data-language-submit]");
    if (!select || !button) return;
    button.hidden = true;
    select.addEventListener("change", () => form.requestSubmit());
  }

  function init(root) {
    root.querySelectorAll("form[data-language-switcher]").forEach(initLanguageSwitcher);
    root.querySelectorAll("select[data-autocomplete-url]").forEach(initPicker);
    root.querySelectorAll("form.interaction-form").forEach(initInteractionForm);
  }

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:load", (event) => init(event.target));
})();
