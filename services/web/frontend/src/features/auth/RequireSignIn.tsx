import { Navigate, Outlet, useLocation } from "react-router";
import { Loading } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useMe } from "./session";

export function RequireSignIn() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading what="your session" />;
  if (me.error) return <ProblemAlert error={me.error} />;
  if (!me.data) {
    return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}
