// Rapport's browser behaviour. Progressive enhancement only: every form also
// works as a plain HTML form without this script.
(function () {
  "use strict";

  // Type-ahead pickers: a <select data-autocomplete-url> becomes a Tom Select
  // whose options come from a small JSON endpoint (only what the user may see).
  // Tom Select points the <label> at its own input; the hidden original keeps a
  // name of its own, so that no control is left unlabelled.
  function keepLabel(control) {
    const label = control.labels && control.labels.length ? control.labels[0].textContent.trim() : "";
    if (label) control.setAttribute("aria-label", label);
  }

  function initPicker(select) {
    if (select.tomselect || typeof TomSelect === "undefined") return;
    const url = select.dataset.autocompleteUrl;
    keepLabel(select);
    const quick = select.dataset.quickCreate
      ? document.getElementById(select.dataset.quickCreate)
      : null;
    new TomSelect(select, {
      // "Create ‘name’": a short inline form (quickCreate below), not a bare option.
      create: quick ? (input, callback) => quickCreate(quick, input, callback) : false,
      render: quick
        ? {
            option_create(data, escape) {
              return `<div class="create">${escape(quick.dataset.createLabel || "Create")} ‘<strong>${escape(data.input)}</strong>’…</div>`;
            },
          }
        : {},
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

  // The interaction form's new stakeholder: name, organisation and e-mail in a small
  // panel; saved with a POST, the new person joins the picker and nothing typed in
  // the interaction form is lost (the page never reloads).
  function quickCreate(panel, input, callback) {
    const name = panel.querySelector("[data-quick='name']");
    const organization = panel.querySelector("[data-quick='organization']");
    const email = panel.querySelector("[data-quick='email']");
    const errors = panel.querySelector("[data-quick='errors']");
    const save = panel.querySelector("[data-quick='save']");
    const cancel = panel.querySelector("[data-quick='cancel']");
    name.value = input;
    organization.value = "";
    email.value = "";
    errors.textContent = "";
    panel.hidden = false;
    organization.focus();
    let done = false;
    function finish(item) {
      if (done) return;
      done = true;
      panel.hidden = true;
      save.onclick = null;
      cancel.onclick = null;
      callback(item);
    }
    cancel.onclick = () => finish();
    save.onclick = () => {
      const form = panel.closest("form");
      const body = new FormData();
      body.append("csrfmiddlewaretoken", form.querySelector("[name='csrfmiddlewaretoken']").value);
      body.append("name", name.value);
      body.append("organization_name", organization.value);
      body.append("email", email.value);
      fetch(panel.dataset.url, { method: "POST", body, credentials: "same-origin" })
        .then((response) => response.json().then((data) => [response.ok, data]))
        .then(([ok, data]) => {
          if (ok) {
            finish({ value: String(data.value), text: data.text });
            return;
          }
          errors.textContent = Object.values(data.errors || {})
            .flat()
            .map((e) => e.message)
            .join(" ");
        })
        .catch(() => {
          errors.textContent = panel.dataset.failed || "Not saved.";
        });
    };
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

  // Due-date shortcuts of a commitment row: today + n days, or the month's last day.
  function isoDate(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-due-shortcuts] button");
    if (!button) return;
    const input = button.closest(".commitment-form").querySelector("input[name$='-due_date']");
    if (!input) return;
    const date = new Date();
    if (button.dataset.dueMonthEnd !== undefined) {
      date.setMonth(date.getMonth() + 1, 0);
    } else {
      date.setDate(date.getDate() + parseInt(button.dataset.dueDays, 10));
    }
    input.value = isoDate(date);
  });

  // Tags: a comma-separated text input becomes a multi-picker of the known names that
  // also takes new ones; the form still posts "a, b, c".
  function initTagPicker(input) {
    if (input.tomselect || typeof TomSelect === "undefined") return;
    const known = JSON.parse(input.dataset.tagOptions || "[]");
    keepLabel(input);
    new TomSelect(input, {
      plugins: ["remove_button"],
      delimiter: ",",
      persist: false,
      create: true,
      createOnBlur: true,
      options: known.map((name) => ({ value: name, text: name })),
    });
  }

  function init(root) {
    root.querySelectorAll("input[data-tag-picker]").forEach(initTagPicker);
    root.querySelectorAll("[data-due-shortcuts]").forEach((group) => {
      group.hidden = false;
    });
    root.querySelectorAll("form[data-language-switcher]").forEach(initLanguageSwitcher);
    root.querySelectorAll("select[data-autocomplete-url]").forEach(initPicker);
    root.querySelectorAll("form.interaction-form").forEach(initInteractionForm);
  }

  // "/" or Ctrl-K focuses the header search, unless one is typing somewhere else;
  // Escape closes its results.
  document.addEventListener("keydown", (event) => {
    const search = document.getElementById("header-search-input");
    if (!search) return;
    const target = event.target;
    const typing =
      target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if ((event.key === "k" && (event.ctrlKey || event.metaKey)) || (event.key === "/" && !typing)) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "Escape" && target === search) {
      document.getElementById("header-search-results").replaceChildren();
    }
  });

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:load", (event) => init(event.target));
})();
