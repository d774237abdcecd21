import { useMutation, useQueryClient } from "@tanstack/react-query";
import { NavLink, Outlet, useNavigate } from "react-router";
import { authApi } from "../api/auth";
import { ME_KEY, SIGNED_OUT_KEY, useMe } from "../features/auth/session";
import { useUnreadCount } from "../features/notifications";
import { ProblemAlert } from "./ProblemAlert";

export function Layout() {
  const me = useMe();
  const unread = useUnreadCount();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const logout = useMutation({
    mutationFn: authApi.logout,
    onSuccess: () => {
      // Signed out at once (RequireSignIn leaves this layout in the same render, so its
      // queries ask nothing more with the ended session), then forget the member's data.
      // Clearing first would let this layout render once more and refetch (401s).
      queryClient.setQueryData(SIGNED_OUT_KEY, true);
      queryClient.setQueryData(ME_KEY, null);
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== "auth" });
      navigate("/sign-in", { replace: true });
    },
  });
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">Marketflow</span>
        <nav aria-label="Main">
          <NavLink to="/" end>
            My work
          </NavLink>
          <NavLink to="/campaigns">Campaigns</NavLink>
          <NavLink to="/playbooks">Playbooks</NavLink>
          <NavLink to="/calendar">Calendar</NavLink>
          <NavLink to="/team">Team</NavLink>
          <NavLink to="/reports">Reports</NavLink>
          <NavLink to="/notifications">Notifications</NavLink>
          <NavLink to="/preferences">Preferences</NavLink>
        </nav>
        <div className="header-member">
          <NavLink
            to="/notifications"
            className="unread"
            aria-label={unread === undefined ? "Unread notifications" : `${unread} unread notifications`}
          >
            <span aria-hidden="true">🔔</span> <span className="count">{unread ?? "…"}</span>
          </NavLink>
          <span className="member-name" title={me.data?.roles.join(", ")}>
            {me.data?.name}
          </span>
          <button type="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
            Sign out
          </button>
        </div>
      </header>
      {logout.error ? <ProblemAlert error={logout.error} /> : null}
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
