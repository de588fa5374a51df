# The cluster's PKI, made with openssl as kubeadm would: a CA, the API server's serving certificate
# (valid for the host address and the `kubernetes` Service, which pods use), an admin client
# certificate in system:masters (kubectl, helm and every component), and the service-account key.
# Sourced by cluster.sh.

pki_leaf() { # NAME SUBJECT EXTENSIONS...
  local name=$1 subj=$2
  shift 2
  printf '%s\n' "$@" >"$W/pki/$name.ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/pki/$name.key" \
    -out "$W/pki/$name.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -in "$W/pki/$name.csr" -CA "$W/pki/ca.crt" -CAkey "$W/pki/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 2 -out "$W/pki/$name.crt" -extfile "$W/pki/$name.ext" 2>/dev/null
}

make_pki() {
  local ip=$1
  mkdir -p "$W/pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/pki/ca.key" -out "$W/pki/ca.crt" \
    -days 2 -subj /CN=sfprompt-e2e-ca -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  local leaf=("basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment")
  local san="subjectAltName=IP:127.0.0.1,IP:$ip,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes"
  san+=",DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
  pki_leaf apiserver /CN=kube-apiserver "${leaf[@]}" extendedKeyUsage=serverAuth "$san"
  pki_leaf admin "/O=system:masters/CN=sfprompt-e2e-admin" "${leaf[@]}" extendedKeyUsage=clientAuth
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$W/pki/sa.key"
  openssl ec -in "$W/pki/sa.key" -pubout -out "$W/pki/sa.pub" 2>/dev/null
}

write_kubeconfig() { # SERVER_URL
  cat >"$KUBECONFIG" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: e2e
    cluster: {server: "$1", certificate-authority: "$W/pki/ca.crt"}
users:
  - name: admin
    user: {client-certificate: "$W/pki/admin.crt", client-key: "$W/pki/admin.key"}
contexts:
  - name: e2e
    context: {cluster: e2e, user: admin}
current-context: e2e
KC
}
