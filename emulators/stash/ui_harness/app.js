// The emulated Stash shell: a nav bar whose utility items are patchable, a scene page (ScenePage, patchable,
// props {scene}) loaded through findScene, and the plugin routes. Rendered after the plugins' scripts ran.
(function () {
  "use strict";
  var React = window.React;
  var h = React.createElement;
  var harness = window.PluginApi._harness;
  var Link = window.PluginApi.libraries.ReactRouterDOM.Link;

  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: query, variables: variables }),
    }).then(function (r) { return r.json(); });
  }

  var UtilityItems = harness.patchComponent("MainNavBar.UtilityItems", function (props) {
    return h(React.Fragment, null, props.children);
  });

  var ScenePage = harness.patchComponent("ScenePage", function (props) {
    var scene = props.scene;
    return h("div", { className: "scene-page", "data-testid": "scene-page" },
      h("h1", null, scene.title || "Scene " + scene.id),
      h("p", null, (scene.files || []).map(function (f) { return f.path; }).join(", ")));
  });

  function SceneRoute(props) {
    var state = React.useState(null);
    React.useEffect(function () {
      graphql("query($id: ID!) { findScene(id: $id) { id title files { path } } }", { id: props.id })
        .then(function (body) { state[1](body.data.findScene); });
    }, [props.id]);
    return state[0] ? h(ScenePage, { scene: state[0] }) : h("p", null, "Loading scene…");
  }

  function NavBar() {
    return h("nav", { className: "harness-nav" },
      h(Link, { to: "/", className: "harness-brand" }, "Stash"),
      h("div", { className: "harness-utility" },
        h(UtilityItems, null, h(Link, { to: "/settings", key: "settings", className: "btn" }, "Settings"))));
  }

  function App() {
    var pathState = React.useState(window.location.pathname);
    React.useEffect(function () {
      function update() { pathState[1](window.location.pathname); }
      window.addEventListener("harness:navigate", update);
      window.addEventListener("popstate", update);
      return function () {
        window.removeEventListener("harness:navigate", update);
        window.removeEventListener("popstate", update);
      };
    }, []);
    var path = pathState[0];
    var route = harness.routes.filter(function (r) { return r.path === path; })[0];
    var sceneMatch = /^\/scenes\/(\d+)$/.exec(path);
    var body = route ? h(route.component)
      : sceneMatch ? h(SceneRoute, { id: sceneMatch[1], key: sceneMatch[1] })
        : h("p", { "data-testid": "home" }, "Emulated Stash home.");
    return h("div", null, h(NavBar), h("main", null, body));
  }

  window.ReactDOM.render(h(App), document.getElementById("root"));
})();
