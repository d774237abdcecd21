import { Navigate, Outlet, useLocation } from "react-router";
import { Loading } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useQueryClient } from "@tanstack/react-query";
import { SIGNED_OUT_KEY, useMe } from "./session";

export function RequireSignIn() {
  const me = useMe();
  const location = useLocation();
  const signedOut = useQueryClient().getQueryData<boolean>(SIGNED_OUT_KEY) === true;
  if (me.isPending) return <Loading what="your session" />;
  if (me.error) return <ProblemAlert error={me.error} />;
  if (!me.data) {
    return <Navigate to="/sign-in" replace state={signedOut ? null : { from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}
