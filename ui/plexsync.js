// PlexSync inside Stash: a status page (nav-bar button → /plugin/PlexSync) and a Plex badge with "Sync now" on
// every scene page. Plain JavaScript on Stash's global PluginApi (React.createElement, no build step), talking
// only to Stash's own /graphql (same origin, so Stash's default CSP is enough). Quick reads and queueing go
// through runPluginOperation (PlexSync answers from its store in well under a second); long work runs as a
// Stash task through runPluginTask and is followed with findJob.
(function () {
  "use strict";

  var api = window.PluginApi;
  if (!api || !api.React) {
    return;
  }
  var React = api.React;
  var h = React.createElement;
  var PLUGIN_ID = "PlexSync";
  var ROUTE = "/plugin/PlexSync";
  var REFRESH_MS = 5000;
  var JOB_POLL_MS = 1000;

  // -- talking to Stash -------------------------------------------------------------------------------------

  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query: query, variables: variables }),
    })
      .then(function (response) {
        return response.json().catch(function () {
          throw new Error("Stash answered " + response.status + " without JSON");
        });
      })
      .then(function (body) {
        if (body.errors && body.errors.length) {
          throw new Error(body.errors.map(function (e) { return e.message; }).join("; "));
        }
        return body.data;
      });
  }

  function operation(op, extra) {
    var args = Object.assign({ mode: "ui", op: op }, extra || {});
    return graphql(
      "mutation PlexSyncOperation($id: ID!, $args: Map) { runPluginOperation(plugin_id: $id, args: $args) }",
      { id: PLUGIN_ID, args: args }
    ).then(function (data) { return data.runPluginOperation; });
  }

  function runTask(taskName) {
    return graphql(
      "mutation PlexSyncTask($id: ID!, $task: String!) { runPluginTask(plugin_id: $id, task_name: $task) }",
      { id: PLUGIN_ID, task: taskName }
    ).then(function (data) { return data.runPluginTask; });
  }

  // Stash drops finished jobs from its queue after a while: a job that is gone has ended.
  function waitForJob(jobId) {
    return new Promise(function (resolve, reject) {
      function poll() {
        graphql("query PlexSyncJob($id: ID!) { findJob(input: {id: $id}) { id status progress error } }",
          { id: jobId })
          .then(function (data) {
            var job = data.findJob;
            if (!job || ["FINISHED", "CANCELLED", "FAILED"].indexOf(job.status) >= 0) {
              resolve(job);
            } else {
              setTimeout(poll, JOB_POLL_MS);
            }
          })
          .catch(reject);
      }
      poll();
    });
  }

  // -- formatting ---------------------------------------------------------------------------------------------

  function ago(seconds) {
    if (!seconds) {
      return "never";
    }
    var delta = Math.max(0, Date.now() / 1000 - seconds);
    if (delta < 60) { return "just now"; }
    if (delta < 3600) { return Math.round(delta / 60) + " min ago"; }
    if (delta < 86400) { return Math.round(delta / 3600) + " h ago"; }
    return new Date(seconds * 1000).toLocaleString();
  }

  function when(seconds) {
    return seconds ? new Date(seconds * 1000).toLocaleString() : "—";
  }

  function count(value) {
    return typeof value === "number" ? value.toLocaleString() : "—";
  }

  function sceneLink(sceneId) {
    return h("a", { href: "/scenes/" + sceneId, className: "plexsync-scene-link" }, "scene " + sceneId);
  }

  // -- the PlexSync page --------------------------------------------------------------------------------------

  function Card(props) {
    return h("div", { className: "plexsync-card", "data-testid": props.testId },
      h("div", { className: "plexsync-card-value" }, props.value),
      h("div", { className: "plexsync-card-label" }, props.label));
  }

  function pausedText(paused) {
    if (!paused) { return "no"; }
    return (paused.reason || paused.message || "paused") + (paused.since ? " (since " + when(paused.since) + ")" : "");
  }

  function StatusCards(props) {
    var s = props.status;
    // status counts scenes waiting for Plex's listing and scenes in backoff among the pending ones
    var ready = Math.max(0, (s.pending || 0) - (s.waiting_for_plex || 0) - (s.in_backoff || 0));
    return h("div", { className: "plexsync-cards" },
      h(Card, { testId: "pending", label: "Pending", value: count(ready) }),
      h(Card, { testId: "in-progress", label: "Syncing now", value: count(s.in_progress) }),
      h(Card, { testId: "waiting", label: "Waiting for Plex", value: count(s.waiting_for_plex) }),
      h(Card, { testId: "backoff", label: "In backoff", value: count(s.in_backoff) }),
      h(Card, { testId: "dead", label: "Dead letters", value: count(s.dead) }),
      h(Card, { testId: "synced", label: "Synced", value: count(s.synced) }),
      h(Card, { testId: "skipped", label: "Skipped", value: count(s.skipped) }));
  }

  function Facts(props) {
    var s = props.status;
    var rows = [
      ["Circuit to Plex", s.circuit + (s.circuit_retry_at ? " (retry at " + when(s.circuit_retry_at) + ")" : "")],
      ["Paused", pausedText(s.paused)],
      ["Worker", s.worker_running ? "running" : "not running"],
      ["Last successful sync", ago(s.last_sync_at)],
      ["Plex requests since install", count(s.plex_requests)],
      ["Average seconds per scene", s.avg_scene_seconds ? s.avg_scene_seconds.toFixed(2) : "—"],
    ];
    var methods = s.match_methods || {};
    Object.keys(methods).sort().forEach(function (method) {
      rows.push(["Matched by " + method, count(methods[method])]);
    });
    return h("table", { className: "plexsync-facts", "data-testid": "facts" },
      h("tbody", null, rows.map(function (row) {
        return h("tr", { key: row[0] }, h("th", null, row[0]), h("td", null, row[1]));
      })));
  }

  function DeadLetters(props) {
    var groups = props.groups || {};
    var classes = Object.keys(groups).sort();
    if (!classes.length) {
      return h("p", { "data-testid": "dead-letters-empty" }, "No dead letters.");
    }
    return h("div", { "data-testid": "dead-letters" }, classes.map(function (errorClass) {
      var letters = groups[errorClass];
      return h("div", { key: errorClass, className: "plexsync-dead-class" },
        h("h4", null, errorClass + " (" + letters.length + ")"),
        h("ul", null, letters.map(function (letter) {
          return h("li", { key: letter.scene_id }, sceneLink(letter.scene_id), ": ", letter.message,
            " — " + letter.attempts + " attempts, last " + ago(letter.last_failed_at));
        })));
    }));
  }

  function Attention(props) {
    var items = props.items || [];
    if (!items.length) { return null; }
    return h("div", { "data-testid": "attention" },
      h("h3", null, "Not in Plex yet"),
      h("ul", null, items.map(function (item) {
        return h("li", { key: item.scene_id }, sceneLink(item.scene_id), " — " + item.state.replace(/_/g, " ") +
          (item.reason ? ": " + item.reason : ""));
      })));
  }

  function shownValue(value) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) {
      return "(empty)";
    }
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  // One row per field that would change (old → new), plus a row per image that would be uploaded.
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

  function PreviewTable(props) {
    var preview = props.preview;
    if (!preview) { return null; }
    var scenes = preview.scenes || [];
    return h("div", { "data-testid": "preview" },
      h("h3", null, preview.summary || "Preview"),
      preview.more ? h("p", null, "… and " + preview.more + " more scenes (the task's log lists them)") : null,
      h("table", { className: "plexsync-preview" },
        h("thead", null, h("tr", null, ["Scene", "Plex item", "Field", "Now in Plex", "Would be"].map(
          function (title) { return h("th", { key: title }, title); }))),
        h("tbody", null, scenes.reduce(function (rows, entry) {
          previewRows(entry).forEach(function (row, n) {
            rows.push(h("tr", { key: entry.scene_id + ":" + n, "data-testid": "preview-row" },
              h("td", null, sceneLink(entry.scene_id)),
              h("td", null, row.item),
              h("td", null, row.field),
              h("td", { className: "plexsync-old" }, row.old),
              h("td", { className: "plexsync-new" }, row.now)));
          });
          return rows;
        }, []))));
  }

  // Gaps: Plex items no Stash scene has, and Stash scenes with no Plex item (the Show Gaps task finds them; the
  // page reads its newest report from PlexSync's store). Self-contained: its own state, button and tables.
  function GapsSection() {
    var reportState = React.useState(null);
    var report = reportState[0], setReport = reportState[1];
    var busyState = React.useState(false);
    var busy = busyState[0], setBusy = busyState[1];
    var noteState = React.useState(null);
    var note = noteState[0], setNote = noteState[1];
    var load = React.useCallback(function () {
      return operation("gaps").then(function (answer) { setReport(answer.gaps); })
        .catch(function (e) { setNote("Could not read the gaps: " + e.message); });
    }, []);
    React.useEffect(function () { load(); }, [load]);
    function findGaps() {
      setBusy(true);
      setNote(null);
      return runTask("Show Gaps").then(waitForJob).then(load)
        .catch(function (e) { setNote("Show Gaps failed: " + e.message); })
        .then(function () { setBusy(false); });
    }
    function table(testId, titles, rows) {
      return h("table", { className: "plexsync-preview", "data-testid": testId },
        h("thead", null, h("tr", null, titles.map(function (title) { return h("th", { key: title }, title); }))),
        h("tbody", null, rows));
    }
    function more(shown, total) {
      return total > shown ? h("p", null, "… and " + count(total - shown) + " more (all of them: " +
        "python PlexSync.py gaps --csv)") : null;
    }
    var body = null;
    if (report) {
      var reasons = report.stash_only_by_reason || {};
      body = h("div", null,
        h("p", null, report.message + " (found " + when(report.generated_at) + ")"),
        h("div", { className: "plexsync-cards" },
          h(Card, { testId: "gaps-plex-only", label: "Only in Plex", value: count(report.plex_only_count) }),
          h(Card, { testId: "gaps-stash-only", label: "Only in Stash", value: count(report.stash_only_count) }),
          Object.keys(reasons).sort().map(function (code) {
            return h(Card, { key: code, testId: "gaps-" + code, label: "… " + code.replace(/_/g, " "),
              value: count(reasons[code]) });
          })),
        report.stash_only.length ? h("h4", null, "Stash scenes with no Plex item") : null,
        report.stash_only.length ? table("gaps-stash-table", ["Scene", "Title", "Why", "File"],
          report.stash_only.map(function (item) {
            return h("tr", { key: item.scene_id, "data-testid": "gaps-stash-row" },
              h("td", null, sceneLink(item.scene_id)), h("td", null, item.title || "—"),
              h("td", null, item.reason_code.replace(/_/g, " ") + ": " + item.reason), h("td", null, item.file || "—"));
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

  function PlexSyncPage() {
    var state = React.useState(null);
    var status = state[0], setStatus = state[1];
    var errorState = React.useState(null);
    var error = errorState[0], setError = errorState[1];
    var messageState = React.useState(null);
    var message = messageState[0], setMessage = messageState[1];
    var busyState = React.useState(null);
    var busy = busyState[0], setBusy = busyState[1];
    var previewState = React.useState(null);
    var preview = previewState[0], setPreview = previewState[1];

    var refresh = React.useCallback(function () {
      return operation("overview")
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

    function act(label, work) {
      setBusy(label);
      setMessage(null);
      return work()
        .then(function (text) { setMessage(text); })
        .catch(function (e) { setMessage(label + " failed: " + e.message); })
        .then(function () { setBusy(null); return refresh(); });
    }

    function task(label, taskName) {
      return act(label, function () {
        return runTask(taskName).then(waitForJob).then(function () {
          return label + " finished. Details are in Stash's log (Settings → Logs).";
        });
      });
    }

    var buttons = [
      ["Process Queue", function () { return task("Process Queue", "Process Queue"); }, false],
      ["Sync Recent", function () { return task("Sync Recent", "Sync Recent Scenes"); }, false],
      ["Preview Sync", function () {
        return act("Preview Sync", function () {
          return runTask("Preview Sync (no changes)").then(waitForJob)
            .then(function () { return operation("last_preview"); })
            .then(function (answer) {
              setPreview(answer.preview);
              return answer.preview ? "Preview ready: nothing was written to Plex." : "The preview produced no result.";
            });
        });
      }, false],
      ["Retry Failed", function () {
        return act("Retry Failed", function () {
          return operation("retry_failed").then(function (answer) {
            return answer.requeued + " dead letters moved back to the queue.";
          });
        });
      }, false],
      ["Clear Dead Letters", function () {
        if (!window.confirm("Delete every dead letter without retrying it? Those scenes stay unsynced until edited again or Sync All runs.")) {
          setMessage("Nothing was deleted.");
          return Promise.resolve();
        }
        return act("Clear Dead Letters", function () {
          return operation("clear_dead_letters").then(function (answer) {
            return answer.cleared + " dead letters deleted.";
          });
        });
      }, true],
    ];

    return h("div", { className: "plexsync-page", "data-testid": "plexsync-page" },
      h("h2", null, "PlexSync"),
      error ? h("div", { className: "plexsync-error", "data-testid": "error" }, error) : null,
      h("div", { className: "plexsync-actions" }, buttons.map(function (button) {
        return h("button", {
          key: button[0], type: "button", disabled: !!busy,
          className: "btn " + (button[2] ? "btn-danger" : "btn-secondary"),
          "data-testid": "action-" + button[0].toLowerCase().replace(/ /g, "-"),
          onClick: button[1],
        }, busy === button[0] ? button[0] + "…" : button[0]);
      })),
      message ? h("div", { className: "plexsync-message", "data-testid": "message" }, message) : null,
      status ? h("div", null,
        h(StatusCards, { status: status }),
        h(Facts, { status: status }),
        h("h3", null, "Dead letters"),
        h(DeadLetters, { groups: status.dead_letters_by_class }),
        h(Attention, { items: status.needs_attention })) : h("p", null, "Loading…"),
      h(PreviewTable, { preview: preview }),
      h(GapsSection, null));
  }

  // -- the badge on a scene's page ------------------------------------------------------------------------------

  var STATE_TEXT = {
    synced: "synced", pending: "pending", syncing: "syncing now", waiting_for_plex: "waiting for Plex to list the file",
    in_backoff: "retrying after an error", ambiguous: "ambiguous", skipped: "skipped", failed: "failed",
    unknown: "not synced yet",
  };

  function PlexBadge(props) {
    var sceneId = props.sceneId;
    var answerState = React.useState(null);
    var answer = answerState[0], setAnswer = answerState[1];
    var noteState = React.useState(null);
    var note = noteState[0], setNote = noteState[1];

    var load = React.useCallback(function () {
      return operation("scene", { scene_id: sceneId })
        .then(setAnswer)
        .catch(function (e) { setAnswer({ state: "error", reason: e.message }); });
    }, [sceneId]);

    React.useEffect(function () { load(); }, [load]);

    function syncNow() {
      setNote("Queuing…");
      operation("sync_scene", { scene_id: sceneId })
        .then(function () { setNote("Queued for Plex."); return load(); })
        .catch(function (e) { setNote("Could not queue: " + e.message); });
    }

    var label = "Plex: …";
    var detail = null;
    if (answer) {
      label = "Plex: " + (answer.state === "error" ? "status unavailable" : STATE_TEXT[answer.state] || answer.state);
      if (answer.state === "synced") { label += " " + ago(answer.synced_at); }
      detail = answer.reason || null;
    }
    var item = answer && answer.plex_item;
    return h("div", { className: "plexsync-badge plexsync-state-" + (answer ? answer.state : "loading"),
      "data-testid": "plex-badge" },
      h("span", { className: "plexsync-badge-label", "data-testid": "plex-badge-label" }, label),
      item ? h("span", { className: "plexsync-badge-item", "data-testid": "plex-badge-item" },
        " · Plex item " + item.rating_key + (item.match_method ? " (" + item.match_method + ")" : "")) : null,
      detail ? h("span", { className: "plexsync-badge-detail", "data-testid": "plex-badge-detail" }, " — " + detail) : null,
      h("button", { type: "button", className: "btn btn-sm btn-secondary plexsync-sync-now",
        "data-testid": "sync-now", onClick: syncNow }, "Sync now"),
      note ? h("span", { className: "plexsync-badge-note", "data-testid": "plex-badge-note" }, " " + note) : null);
  }

  // -- registration -------------------------------------------------------------------------------------------

  function NavButton() {
    var router = api.libraries && api.libraries.ReactRouterDOM;
    var Link = router && router.Link;
    var content = h("span", { className: "plexsync-nav-label" }, "PlexSync");
    return Link
      ? h(Link, { to: ROUTE, className: "btn nav-utility plexsync-nav", title: "PlexSync status", "data-testid": "plexsync-nav" }, content)
      : h("a", { href: ROUTE, className: "btn nav-utility plexsync-nav", title: "PlexSync status", "data-testid": "plexsync-nav" }, content);
  }

  api.register.route(ROUTE, PlexSyncPage);

  api.patch.before("MainNavBar.UtilityItems", function (props) {
    var children = React.Children.toArray(props.children);
    return [Object.assign({}, props, { children: [h(NavButton, { key: "plexsync-nav" })].concat(children) })];
  });

  api.patch.after("ScenePage", function (props, rendered) {
    var scene = props && props.scene;
    if (!scene || !scene.id) {
      return rendered;
    }
    return h(React.Fragment, null, h(PlexBadge, { key: "plexsync-badge-" + scene.id, sceneId: scene.id }), rendered);
  });
})();
