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
            <BellIcon /> <span className="count">{unread ?? "…"}</span>
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

/** A bell drawn inline (an emoji would need a colour-emoji font, absent on many desktops). */
function BellIcon() {
  return (
    <svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" className="icon">
      <path
        fill="currentColor"
        d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
      />
    </svg>
  );
}
