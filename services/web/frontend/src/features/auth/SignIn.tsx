import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Navigate, useLocation } from "react-router";
import { authApi } from "../../api/auth";
import { Loading } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { ME_KEY, SIGNED_OUT_KEY, useMe } from "./session";

export function SignIn() {
  const me = useMe();
  const location = useLocation();
  const queryClient = useQueryClient();
  const config = useQuery({ queryKey: ["auth", "config"], queryFn: authApi.config });
  const members = useQuery({
    queryKey: ["auth", "demo-members"],
    queryFn: authApi.demoMembers,
    enabled: config.data?.demo === true,
  });
  const [memberId, setMemberId] = useState("");
  const login = useMutation({
    mutationFn: (id: string) => authApi.demoLogin(id),
    onSuccess: async () => {
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== "auth" });
      queryClient.setQueryData(SIGNED_OUT_KEY, false);
      await queryClient.invalidateQueries({ queryKey: ME_KEY });
    },
  });
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  if (me.data) return <Navigate to={from} replace />;

  return (
    <main id="main" className="sign-in">
      <h1>Sign in to Marketflow</h1>
      {config.isPending ? <Loading what="sign-in options" /> : null}
      {config.error ? <ProblemAlert error={config.error} /> : null}
      {config.data?.oidc ? (
        <p>
          <a className="button primary" href={authApi.ssoUrl}>
            Sign in with SSO
          </a>
        </p>
      ) : null}
      {config.data?.demo ? (
        <form
          className="card"
          onSubmit={(event) => {
            event.preventDefault();
            const chosen = memberId || members.data?.[0]?.member_id;
            if (chosen) login.mutate(chosen);
          }}
        >
          <h2>Demo members</h2>
          {members.isPending ? <Loading what="demo members" /> : null}
          {members.error ? <ProblemAlert error={members.error} /> : null}
          {members.data ? (
            <>
              <label htmlFor="demo-member">Sign in as</label>
              <select
                id="demo-member"
                value={memberId || members.data[0]?.member_id || ""}
                onChange={(event) => setMemberId(event.target.value)}
              >
                {members.data.map((member) => (
                  <option key={member.member_id} value={member.member_id}>
                    {member.name} ({member.roles.join(", ")})
                  </option>
                ))}
              </select>
              <button type="submit" className="primary" disabled={login.isPending}>
                {login.isPending ? "Signing in…" : "Sign in"}
              </button>
            </>
          ) : null}
          {login.error ? <ProblemAlert error={login.error} /> : null}
        </form>
      ) : null}
      {config.data && !config.data.demo && !config.data.oidc ? (
        <p>No sign-in method is configured on this server.</p>
      ) : null}
    </main>
  );
}
