// PlexSync inside Stash, part 2 of 2: the PlexSync page (nav-bar button → /plugin/PlexSync), built on what
// plexsync.js shares as window.PlexSyncUI.
//
// The page is a list of sections (PAGE_SECTIONS). Each section is one function of ``page`` returning an element
// (or null): page.status is the "overview" answer from PlexSync's store, page.titles the scenes' titles by id,
// page.task(label, taskName) runs a Stash task and follows it, page.act(label, work) runs a quick operation,
// page.busy names the action under way. A new section is one such function added to PAGE_SECTIONS.
(function () {
  "use strict";

  var ui = window.PlexSyncUI;
  if (!ui) {
    return;
  }
  var React = ui.React, h = ui.h;
  var REFRESH_MS = 5000;

  function button(page, label, onClick, style) {
    return h("button", {
      key: label, type: "button", disabled: !!page.busy,
      className: "btn " + (style || "btn-secondary"),
      "data-testid": "action-" + label.toLowerCase().replace(/ /g, "-"),
      onClick: onClick,
    }, page.busy === label ? label + "…" : label);
  }

  // -- setup: what a newcomer works through, each line with its fix ----------------------------------------

  var MARKS = { ok: "✓", problem: "✗", unknown: "○" };

  function SetupSection(page) {
    var items = page.status.setup || [];
    var done = items.every(function (item) { return item.state === "ok"; });
    return h("section", { className: "plexsync-setup", "data-testid": "setup" },
      h("h3", null, done ? "Setup: all done" : "Setup"),
      h("ul", { className: "plexsync-checklist" }, items.map(function (item) {
        return h("li", { key: item.key, className: "plexsync-check plexsync-check-" + item.state,
          "data-testid": "setup-" + item.key, "data-state": item.state },
          h("span", { className: "plexsync-check-mark", "aria-hidden": "true" }, MARKS[item.state] || "○"),
          h("span", { className: "plexsync-check-label" }, item.label + ": "),
          h("span", { className: "plexsync-check-text" }, item.text),
          item.checked_at ? h("span", { className: "plexsync-muted" }, " (" + ui.ago(item.checked_at) + ")") : null,
          item.state !== "ok" && item.fix ? h("div", { className: "plexsync-fix", "data-testid": "fix-" + item.key },
            "To fix: " + item.fix) : null);
      })),
      h("div", { className: "plexsync-actions" },
        button(page, "Health Check", function () {
          return page.task("Health Check", "Health Check", "the checklist above shows what it found");
        }, "btn-primary"),
        button(page, "Sync All", function () {
          return page.task("Sync All", "Sync All Scenes", "the counts below show where every scene is");
        }, "btn-primary")));
  }

  // -- the queue: the connection to Plex and one row of counts ---------------------------------------------

  function Card(testId, label, value) {
    return h("div", { key: testId, className: "plexsync-card", "data-testid": testId },
      h("div", { className: "plexsync-card-value" }, ui.count(value)),
      h("div", { className: "plexsync-card-label" }, label));
  }

  function QueueSection(page) {
    var s = page.status;
    var paused = s.paused;
    return h("section", { "data-testid": "queue" },
      h("p", { className: "plexsync-connection", "data-testid": "connection" },
        "Plex connection: " + (s.connection || "unknown")),
      paused ? h("p", { className: "plexsync-error", "data-testid": "paused" },
        "Syncing is paused" + (paused.since ? " since " + ui.when(paused.since) : "") + ": " + paused.message +
        " — run Health Check after fixing it") : null,
      s.worker_start_failure ? h("p", { className: "plexsync-error", "data-testid": "worker-failure" },
        "The background worker could not start (" + ui.ago(s.worker_start_failure.at) + "): " +
        s.worker_start_failure.message) : null,
      h("div", { className: "plexsync-cards" }, [
        Card("pending", "Ready to sync", s.ready),
        Card("in-progress", "Syncing now", s.in_progress),
        Card("waiting", "Waiting for Plex", s.waiting_for_plex),
        Card("backoff", "Retrying later", s.in_backoff),
        Card("dead", "Failed", s.dead),
        Card("synced", "Synced", s.synced),
        Card("skipped", "Skipped", s.skipped),
      ]));
  }

  // -- the other actions --------------------------------------------------------------------------------------

  function ActionsSection(page) {
    return h("div", { className: "plexsync-actions", "data-testid": "actions" },
      button(page, "Process Queue", function () { return page.task("Process Queue", "Process Queue"); }),
      button(page, "Sync Recent", function () { return page.task("Sync Recent", "Sync Recent Scenes"); }),
      button(page, "Preview Sync", page.preview),
      button(page, "Retry Failed", function () {
        return page.act("Retry Failed", function () {
          return ui.operation("retry_failed").then(function (answer) {
            return ui.plural(answer.requeued, "failed scene") + " moved back to the queue.";
          });
        });
      }),
      button(page, "Clear Dead Letters", function () {
        if (!window.confirm("Delete every dead letter without retrying it? Those scenes stay unsynced until edited again or Sync All runs.")) {
          page.say("Nothing was deleted.");
          return Promise.resolve();
        }
        return page.act("Clear Dead Letters", function () {
          return ui.operation("clear_dead_letters").then(function (answer) {
            return ui.plural(answer.cleared, "dead letter") + " deleted.";
          });
        });
      }, "btn-danger"));
  }

  // -- scenes that need attention: by title, the reason in words, what to do --------------------------------

  var KINDS = [
    ["failed", "Failed"], ["waiting_for_plex", "Waiting for Plex to list the file"], ["ambiguous", "Ambiguous"],
    ["skipped", "Skipped"], ["synced_in_part", "Synced without the cover"],
  ];

  function ProblemsSection(page) {
    var problems = page.status.problems || [];
    if (!problems.length) {
      return h("p", { "data-testid": "problems-empty" }, "Every scene PlexSync has seen is in Plex.");
    }
    return h("section", { "data-testid": "problems" }, h("h3", null, "Scenes that need attention"),
      KINDS.map(function (kind) {
        var scenes = problems.filter(function (p) { return p.kind === kind[0]; });
        if (!scenes.length) { return null; }
        return h("div", { key: kind[0], className: "plexsync-problem-kind", "data-testid": "problems-" + kind[0] },
          h("h4", null, kind[1] + " (" + scenes.length + ")"),
          h("ul", null, scenes.map(function (p) {
            return h("li", { key: p.scene_id, "data-testid": "problem" },
              ui.sceneLink(p.scene_id, page.titles), ": " + p.reason,
              kind[0] === "failed" && p.attempts ? h("span", { className: "plexsync-muted" },
                " (" + ui.plural(p.attempts, "attempt") + ", last " + ui.ago(p.at) + ")") : null,
              p.fix ? h("div", { className: "plexsync-fix" }, "To fix: " + p.fix) : null);
          })));
      }));
  }

  // -- facts ------------------------------------------------------------------------------------------------

  function FactsSection(page) {
    var s = page.status;
    var methods = s.match_methods || {};
    var rows = [
      ["Background worker", s.worker_running ? "running" : "not running (starts with the next edit)"],
      ["Last successful sync", ui.ago(s.last_sync_at)],
      ["Plex requests since install", ui.count(s.plex_requests)],
      ["Average seconds per scene", s.avg_scene_seconds ? s.avg_scene_seconds.toFixed(2) : "—"],
      ["Linked by file path", ui.count(methods.path || 0)],
      ["Linked by file name and size", ui.count(methods.basename_size || 0)],
    ];
    return h("table", { className: "plexsync-facts", "data-testid": "facts" },
      h("tbody", null, rows.map(function (row) {
        return h("tr", { key: row[0] }, h("th", null, row[0]), h("td", null, row[1]));
      })));
  }

  // -- what a Sync All would write: one row per field that would change (old → new), and per new image ------

  function shownValue(value) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) {
      return "(empty)";
    }
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  function previewRows(entry) {
    var item = entry.plex_item ? entry.plex_item + (entry.match ? " (" + entry.match + ")" : "") : "—";
    var rows = Object.keys(entry.changes || {}).sort().map(function (name) {
      return { field: name, old: shownValue(entry.changes[name].old), now: shownValue(entry.changes[name].new) };
    });
    (entry.images || []).forEach(function (kind) {
      rows.push({ field: kind === "poster" ? "poster" : "background", old: "", now: "new image" });
    });
    if (!rows.length) {
      rows.push({ field: entry.outcome.replace(/_/g, " "), old: "", now: entry.reason || "" });
    }
    return rows.map(function (row) { return Object.assign(row, { item: item }); });
  }

  function PreviewSection(page) {
    var preview = page.previewResult;
    if (!preview) { return null; }
    var scenes = preview.scenes || [];
    return h("section", { "data-testid": "preview" },
      h("h3", null, preview.summary || "Preview"),
      preview.more ? h("p", null, "… and " + preview.more + " more scenes (the task's log lists them)") : null,
      h("table", { className: "plexsync-preview" },
        h("thead", null, h("tr", null, ["Scene", "Plex item", "Field", "Now in Plex", "Would be"].map(
          function (title) { return h("th", { key: title }, title); }))),
        h("tbody", null, scenes.reduce(function (rows, entry) {
          previewRows(entry).forEach(function (row, n) {
            rows.push(h("tr", { key: entry.scene_id + ":" + n, "data-testid": "preview-row" },
              h("td", null, ui.sceneLink(entry.scene_id, page.titles)),
              h("td", null, row.item),
              h("td", null, row.field),
              h("td", { className: "plexsync-old" }, row.old),
              h("td", { className: "plexsync-new" }, row.now)));
          });
          return rows;
        }, []))));
  }

  // -- gaps: Plex items no Stash scene has, Stash scenes with no Plex item ------------------------------------
  // The Show Gaps task finds them; the page reads the newest report from PlexSync's store. Its own state and button.

  function Gaps() {
    var reportState = React.useState(null);
    var report = reportState[0], setReport = reportState[1];
    var busyState = React.useState(false);
    var busy = busyState[0], setBusy = busyState[1];
    var noteState = React.useState(null);
    var note = noteState[0], setNote = noteState[1];
    var load = React.useCallback(function () {
      return ui.operation("gaps").then(function (answer) { setReport(answer.gaps); })
        .catch(function (e) { setNote("Could not read the gaps: " + e.message); });
    }, []);
    React.useEffect(function () { load(); }, [load]);
    function findGaps() {
      setBusy(true);
      setNote(null);
      return ui.runTask("Show Gaps").then(ui.waitForJob).then(load)
        .catch(function (e) { setNote("Show Gaps failed: " + e.message); })
        .then(function () { setBusy(false); });
    }
    function table(testId, titles, rows) {
      return h("table", { className: "plexsync-preview", "data-testid": testId },
        h("thead", null, h("tr", null, titles.map(function (title) { return h("th", { key: title }, title); }))),
        h("tbody", null, rows));
    }
    function more(shown, total) {
      return total > shown ? h("p", null, "… and " + ui.count(total - shown) + " more (all of them: " +
        "python PlexSync.py gaps --csv)") : null;
    }
    var body = null;
    if (report) {
      var reasons = report.stash_only_by_reason || {};
      body = h("div", null,
        h("p", null, report.message + " (found " + ui.when(report.generated_at) + ")"),
        h("div", { className: "plexsync-cards" }, [
          Card("gaps-plex-only", "Only in Plex", report.plex_only_count),
          Card("gaps-stash-only", "Only in Stash", report.stash_only_count),
        ].concat(Object.keys(reasons).sort().map(function (code) {
          return Card("gaps-" + code, "… " + code.replace(/_/g, " "), reasons[code]);
        }))),
        report.stash_only.length ? h("h4", null, "Stash scenes with no Plex item") : null,
        report.stash_only.length ? table("gaps-stash-table", ["Scene", "Why", "File"],
          report.stash_only.map(function (item) {
            var titles = {};
            titles[String(item.scene_id)] = item.title;
            return h("tr", { key: item.scene_id, "data-testid": "gaps-stash-row" },
              h("td", null, ui.sceneLink(item.scene_id, titles)),
              h("td", null, item.reason_code.replace(/_/g, " ") + ": " + item.reason),
              h("td", null, item.file || "—"));
          })) : null,
        more(report.stash_only.length, report.stash_only_count),
        report.plex_only.length ? h("h4", null, "Plex items no Stash scene has") : null,
        report.plex_only.length ? table("gaps-plex-table", ["Plex title", "File", "Library"],
          report.plex_only.map(function (item) {
            return h("tr", { key: item.rating_key, "data-testid": "gaps-plex-row" },
              h("td", null, item.title || "—"), h("td", null, item.file), h("td", null, item.library));
          })) : null,
        more(report.plex_only.length, report.plex_only_count));
    }
    return h("div", { "data-testid": "gaps" },
      h("h3", null, "Gaps between Stash and Plex"),
      h("button", { type: "button", className: "btn btn-secondary", disabled: busy, "data-testid": "action-find-gaps",
        onClick: findGaps }, busy ? "Finding gaps…" : (report ? "Find gaps again" : "Find gaps")),
      note ? h("div", { className: "plexsync-error" }, note) : null,
      body || (busy ? null : h("p", null, "No gap report yet: Find gaps lists what each side lacks.")));
  }

  function GapsSection() {
    return h("section", null, h(Gaps, null));
  }

  var PAGE_SECTIONS = [SetupSection, QueueSection, ActionsSection, ProblemsSection, FactsSection, PreviewSection,
    GapsSection];

  // -- the page: state, refresh, actions -----------------------------------------------------------------------

  function sceneIds(status, preview) {
    var ids = (status && status.problems || []).map(function (p) { return String(p.scene_id); });
    (preview && preview.scenes || []).forEach(function (entry) { ids.push(String(entry.scene_id)); });
    return ids.filter(function (id, n) { return ids.indexOf(id) === n; }).sort();
  }

  function PlexSyncPage() {
    var statusState = React.useState(null), status = statusState[0], setStatus = statusState[1];
    var errorState = React.useState(null), error = errorState[0], setError = errorState[1];
    var messageState = React.useState(null), message = messageState[0], setMessage = messageState[1];
    var busyState = React.useState(null), busy = busyState[0], setBusy = busyState[1];
    var previewState = React.useState(null), preview = previewState[0], setPreview = previewState[1];
    var titlesState = React.useState({}), titles = titlesState[0], setTitles = titlesState[1];

    var refresh = React.useCallback(function () {
      return ui.operation("overview")
        .then(function (answer) { setStatus(answer); setError(null); })
        .catch(function (e) { setError(e.message); });
    }, []);

    React.useEffect(function () {
      refresh();
      var timer = setInterval(function () {
        if (document.visibilityState === "visible") { refresh(); }
      }, REFRESH_MS);
      return function () { clearInterval(timer); };
    }, [refresh]);

    var wanted = sceneIds(status, preview).filter(function (id) { return !(id in titles); }).join(",");
    React.useEffect(function () {  // one request for the scenes not named yet, whenever new ones appear
      if (!wanted) { return; }
      var ids = wanted.split(",");
      ui.sceneTitles(ids).then(function (found) {
        setTitles(function (known) {
          var next = Object.assign({}, known);
          ids.forEach(function (id) { next[id] = found[id] || ""; });
          return next;
        });
      }).catch(function () { /* scenes stay named by id */ });
    }, [wanted]);

    function act(label, work) {
      setBusy(label);
      setMessage(null);
      return work()
        .then(function (text) { setMessage(text); })
        .catch(function (e) { setMessage(label + " failed: " + e.message); })
        .then(function () { setBusy(null); return refresh(); });
    }

    var page = {
      status: status, titles: titles, busy: busy, previewResult: preview, act: act, say: setMessage,
      task: function (label, taskName, where) {
        return act(label, function () {
          return ui.runTask(taskName).then(ui.waitForJob).then(function () {
            return label + " finished: " + (where || "details are in Stash's log (Settings → Logs)") + ".";
          });
        });
      },
      preview: function () {
        return act("Preview Sync", function () {
          return ui.runTask("Preview Sync (no changes)").then(ui.waitForJob)
            .then(function () { return ui.operation("last_preview"); })
            .then(function (answer) {
              setPreview(answer.preview);
              return answer.preview ? "Preview ready: nothing was written to Plex." : "The preview produced no result.";
            });
        });
      },
    };

    return h("div", { className: "plexsync-page", "data-testid": "plexsync-page" },
      h("h2", null, "PlexSync"),
      h(ui.StashVersionNote),
      error ? h("div", { className: "plexsync-error", "data-testid": "error" }, error) : null,
      message ? h("div", { className: "plexsync-message", "data-testid": "message" }, message) : null,
      status ? PAGE_SECTIONS.map(function (section, n) {
        return h(React.Fragment, { key: n }, section(page));
      }) : h("p", null, "Loading…"));
  }

  ui.api.register.route(ui.ROUTE, PlexSyncPage);
})();
