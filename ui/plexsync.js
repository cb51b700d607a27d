// PlexSync inside Stash, part 1 of 2: talking to Stash, formatting, the Plex badge with "Sync now" on every
// scene page, and the nav-bar button. Part 2 (plexsync-page.js, loaded after this file) is the PlexSync page.
// Plain JavaScript on Stash's global PluginApi (React.createElement, no build step), talking only to Stash's own
// /graphql (same origin, so Stash's default CSP is enough). Quick reads and queueing go through
// runPluginOperation (PlexSync answers from its store in well under a second); long work runs as a Stash task
// through runPluginTask and is followed with findJob. What part 2 needs is shared as window.PlexSyncUI.
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
        graphql("query PlexSyncJob($id: ID!) { findJob(input: {id: $id}) { id status progress } }",
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

  // The names Stash shows for scenes (the file's name when a scene has no title): one request for all of them.
  function sceneTitles(ids) {
    if (!ids.length) { return Promise.resolve({}); }
    return graphql(
      "query PlexSyncSceneTitles($ids: [ID!]) { findScenes(ids: $ids, filter: {per_page: -1}) { scenes { id title files { basename } } } }",
      { ids: ids.map(String) }
    ).then(function (data) {
      var titles = {};
      data.findScenes.scenes.forEach(function (scene) {
        var file = (scene.files || [])[0];
        titles[scene.id] = scene.title || (file && file.basename) || "";
      });
      return titles;
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

  function plural(number, noun, many) {
    return count(number) + " " + (number === 1 ? noun : (many || noun + "s"));
  }

  // A scene by its title (``titles`` from sceneTitles), linked to its page; "scene 24" until the title is known.
  function sceneLink(sceneId, titles) {
    var title = titles && titles[String(sceneId)];
    return h("a", { href: "/scenes/" + sceneId, className: "plexsync-scene-link", title: "Stash scene " + sceneId },
      title || "scene " + sceneId);
  }

  // -- what this Stash's release allows ------------------------------------------------------------------------
  // The page reads PlexSync's state through runPluginOperation (Stash 0.25, stashapp/stash#4603); the badge needs a
  // ScenePage plugins can patch (Stash 0.28, #5703): on an older Stash the page says so instead of staying blank.

  var STASH_LIMITS = [
    [[0, 25, 0], "This page needs Stash 0.25 or newer to show PlexSync's state; on this Stash use PlexSync's tasks " +
      "(Settings → Tasks) and their log lines."],
    [[0, 28, 0], "The Plex badge on scene pages needs Stash 0.28 or newer: older Stash does not let plugins add " +
      "to a scene's page."],
  ];

  function stashRelease(text) {
    var match = /(\d+)\.(\d+)\.(\d+)/.exec(text || "");
    return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
  }

  function olderThan(release, wanted) {
    for (var i = 0; i < 3; i++) {
      if (release[i] !== wanted[i]) { return release[i] < wanted[i]; }
    }
    return false;
  }

  function StashVersionNote() {
    var notesState = React.useState([]);
    var notes = notesState[0], setNotes = notesState[1];
    React.useEffect(function () {
      graphql("query PlexSyncStashVersion { version { version } }")
        .then(function (data) {
          var release = stashRelease(data.version && data.version.version);
          if (!release) { return; }  // a development build names no release: it is the newest
          setNotes(STASH_LIMITS.filter(function (limit) { return olderThan(release, limit[0]); })
            .map(function (limit) { return "Stash " + data.version.version + ": " + limit[1]; }));
        })
        .catch(function () { setNotes([]); });
    }, []);
    if (!notes.length) { return null; }
    return h("div", { className: "plexsync-stash-note", "data-testid": "stash-version-note" },
      notes.map(function (note) { return h("p", { key: note }, note); }));
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

  window.PlexSyncUI = {
    api: api, React: React, h: h, ROUTE: ROUTE,
    operation: operation, runTask: runTask, waitForJob: waitForJob, sceneTitles: sceneTitles,
    ago: ago, when: when, count: count, plural: plural, sceneLink: sceneLink, StashVersionNote: StashVersionNote,
  };
})();
