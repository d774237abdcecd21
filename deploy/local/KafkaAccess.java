// Helpers of deploy/local/kafka.sh's secure mode (MARKETFLOW_KAFKA_SECURE=1), run as a
// Java single-file program on the broker's classpath (kafka-clients), so no tool jars
// beyond the broker's need to be fetched.
//
//   java --add-exports java.base/sun.security.tools.keytool=ALL-UNNAMED \
//        KafkaAccess.java certificates <dir> <store password> <name>...
//       runs Java's keytool (its own Main, in this one JVM: some thirty keytool runs
//       take seconds instead of half a minute) to make a CA (<dir>/ca.p12, ca.pem), the
//       broker's keystore (broker.p12: CN=broker, SAN 127.0.0.1 and localhost, signed
//       by the CA), a truststore with the CA (truststore.p12), and per <name> a client
//       certificate CN=<name> signed by the CA (clients/<name>.pem, key in <name>.p12)
//       with its PKCS#8 PEM private key (clients/<name>.key: keytool cannot export
//       keys, and Python's ssl reads PEM).
//   java KafkaAccess.java apply <bootstrap> <client.properties> <passwords dir> <seconds>
//       waits until the broker answers (at most <seconds>), then applies the policy read
//       from stdin (python -m shared.kafka_access spec): creates missing SCRAM users
//       (password in <passwords dir>/<user>), creates missing topics, adds the ACLs and
//       removes any other ACL of the policy's users, so the broker holds exactly it.
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAccess {
  public static void main(String[] args) throws Exception {
    if (args.length >= 3 && args[0].equals("certificates")) {
      certificates(Path.of(args[1]), args[2], List.of(args).subList(3, args.length));
    } else if (args.length == 5 && args[0].equals("apply")) {
      apply(args[1], Path.of(args[2]), Path.of(args[3]), Integer.parseInt(args[4]));
    } else {
      System.err.println("usage: KafkaAccess certificates <dir> <password> <name>... | "
          + "apply <bootstrap> <client.properties> <passwords dir> <seconds>");
      System.exit(2);
    }
  }

  static final String DAYS = "825";

  // keytool exits the JVM with status 1 (after printing why) if a command fails.
  static void keytool(String... args) throws Exception {
    sun.security.tools.keytool.Main.main(args);
  }

  static void keyPair(Path store, String alias, String dname, String pass) throws Exception {
    keytool("-genkeypair", "-alias", alias, "-dname", dname, "-keyalg", "EC", "-groupname",
        "secp256r1", "-validity", DAYS, "-keystore", store.toString(), "-storetype", "PKCS12",
        "-storepass", pass, "-keypass", pass, "-noprompt");
  }

  static void signed(Path dir, Path store, String alias, String pass, Path out,
      String... extensions) throws Exception {
    Path request = Files.createTempFile(dir, alias, ".csr");
    keytool("-certreq", "-alias", alias, "-keystore", store.toString(), "-storepass", pass,
        "-file", request.toString());
    List<String> gencert = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-keystore",
        dir.resolve("ca.p12").toString(), "-storepass", pass, "-validity", DAYS, "-rfc",
        "-infile", request.toString(), "-outfile", out.toString()));
    for (String extension : extensions) {
      gencert.add("-ext");
      gencert.add(extension);
    }
    keytool(gencert.toArray(String[]::new));
    Files.delete(request);
  }

  static void certificates(Path dir, String pass, List<String> names) throws Exception {
    Path clients = dir.resolve("clients");
    Files.createDirectories(clients);
    Path ca = dir.resolve("ca.p12");
    keytool("-genkeypair", "-alias", "ca", "-dname", "CN=Marketflow local Kafka CA",
        "-keyalg", "EC", "-groupname", "secp256r1", "-validity", DAYS, "-ext", "bc:c",
        "-ext", "ku:c=keyCertSign,cRLSign", "-keystore", ca.toString(), "-storetype", "PKCS12",
        "-storepass", pass, "-keypass", pass, "-noprompt");
    keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-storepass",
        pass, "-file", dir.resolve("ca.pem").toString());
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", dir.resolve("ca.pem").toString(),
        "-keystore", dir.resolve("truststore.p12").toString(), "-storetype", "PKCS12",
        "-storepass", pass);
    Path broker = dir.resolve("broker.p12");
    keyPair(broker, "broker", "CN=broker", pass);
    signed(dir, broker, "broker", pass, dir.resolve("broker.pem"),
        "SAN=ip:127.0.0.1,dns:localhost", "ku:c=digitalSignature", "eku=serverAuth,clientAuth");
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", dir.resolve("ca.pem").toString(),
        "-keystore", broker.toString(), "-storepass", pass);
    keytool("-importcert", "-noprompt", "-alias", "broker", "-file",
        dir.resolve("broker.pem").toString(), "-keystore", broker.toString(), "-storepass", pass);
    for (String name : names) {
      Path store = clients.resolve(name + ".p12");
      keyPair(store, name, "CN=" + name, pass);
      signed(dir, store, name, pass, clients.resolve(name + ".pem"),
          "ku:c=digitalSignature", "eku=clientAuth");
    }
    pemKeys(pass.toCharArray(), clients, names);
  }

  static void pemKeys(char[] password, Path dir, List<String> names) throws Exception {
    for (String name : names) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      try (FileInputStream in = new FileInputStream(dir.resolve(name + ".p12").toFile())) {
        store.load(in, password);
      }
      Key key = store.getKey(store.aliases().nextElement(), password);
      String pem = "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(key.getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
      Path out = dir.resolve(name + ".key");
      Files.deleteIfExists(out);
      Files.createFile(out, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rw-------")));
      Files.writeString(out, pem);
    }
  }

  static void apply(String bootstrap, Path clientProperties, Path passwords, int seconds)
      throws Exception {
    List<String> users = new ArrayList<>();
    List<NewTopic> topics = new ArrayList<>();
    Set<AclBinding> acls = new HashSet<>();
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        String[] f = line.trim().split("\\s+");
        switch (f[0]) {
          case "" -> { }
          case "user" -> users.add(f[1]);
          case "topic" -> topics.add(new NewTopic(f[1], Integer.parseInt(f[2]), (short) 1)
              .configs(Map.of("max.message.bytes", f[3])));
          case "acl" -> acls.add(new AclBinding(
              new ResourcePattern(ResourceType.valueOf(f[2]), f[3], PatternType.LITERAL),
              new AccessControlEntry(f[1], "*", AclOperation.valueOf(f[4]),
                  AclPermissionType.ALLOW)));
          default -> throw new IllegalArgumentException("unknown policy line: " + line);
        }
      }
    }
    Properties props = new Properties();
    try (FileInputStream in = new FileInputStream(clientProperties.toFile())) {
      props.load(in);
    }
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    try (Admin admin = Admin.create(props)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      String cluster;
      while (true) {
        try {
          cluster = admin.describeCluster().clusterId().get();
          break;
        } catch (ExecutionException error) {
          if (System.nanoTime() > deadline) {
            throw error;
          }
          Thread.sleep(500);
        }
      }
      Set<String> known = admin.describeUserScramCredentials().all().get().keySet();
      List<UserScramCredentialAlteration> missing = new ArrayList<>();
      for (String user : users) {
        if (!known.contains(user)) {
          String password = Files.readString(passwords.resolve(user)).strip();
          missing.add(new UserScramCredentialUpsertion(user,
              new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password));
        }
      }
      if (!missing.isEmpty()) {
        admin.alterUserScramCredentials(missing).all().get();
      }
      int created = 0;
      for (var result : admin.createTopics(topics).values().values()) {
        try {
          result.get();
          created++;
        } catch (ExecutionException error) {
          if (!(error.getCause() instanceof TopicExistsException)) {
            throw error;
          }
        }
      }
      Set<String> principals = new HashSet<>();
      for (String user : users) {
        principals.add("User:" + user);
      }
      Collection<AclBinding> present = admin.describeAcls(AclBindingFilter.ANY).values().get();
      List<AclBindingFilter> stale = new ArrayList<>();
      for (AclBinding binding : present) {
        if (principals.contains(binding.entry().principal()) && !acls.contains(binding)) {
          stale.add(binding.toFilter());
        }
      }
      if (!stale.isEmpty()) {
        admin.deleteAcls(stale).all().get();
      }
      admin.createAcls(acls).all().get();
      System.out.println("cluster " + cluster + ": " + users.size() + " users ("
          + missing.size() + " added), " + topics.size() + " topics (" + created
          + " created), " + acls.size() + " ACLs (" + stale.size() + " stale removed)");
    }
  }
}
